using TagGateway.Configuration;
using TagGateway.Hits;

namespace TagGateway.Routing;

/// <summary>Where one request goes: an absolute URL built only from configured origins, and the Host to send.</summary>
internal readonly record struct UpstreamTarget(string Url, string? Host)
{
    /// <summary>The URL without its query, for logs: a hit's query carries client ids and page URLs.</summary>
    public string UrlForLog => Url.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? Url[..q] : Url;
}

/// <summary>
/// Maps a request under the measurement path to its upstream. Only configured origins ever appear in the result,
/// so the gateway cannot be steered anywhere else.
/// </summary>
internal sealed class UpstreamResolver
{
    private static readonly string[] AdsPrefixes = ["/ccm/", "/pagead/", "/rmkt/", "/td/"];

    private readonly GatewayMode _mode;
    private readonly string _tagGatewayOrigin;
    private readonly string _tagGatewayHost;
    private readonly string _tagManager;
    private readonly string _analytics;
    private readonly string _ads;

    public UpstreamResolver(GatewayOptions options, TagRegistry tags)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tags);
        _mode = options.Mode;
        var upstreams = options.Upstreams;

        // fps.goog host names are lower case; the origin is fixed at start-up from the primary tag.
        var tag = tags.Primary.ToLowerInvariant();
        _tagGatewayOrigin = upstreams.TagGatewayOrigin.Replace("{tagId}", tag, StringComparison.Ordinal).TrimEnd('/');
        _tagGatewayHost = upstreams.TagGatewayHost.Replace("{tagId}", tag, StringComparison.Ordinal);
        _tagManager = upstreams.TagManager.TrimEnd('/');
        _analytics = upstreams.Analytics.TrimEnd('/');
        _ads = upstreams.Ads.TrimEnd('/');
    }

    public GatewayMode Mode => _mode;

    /// <summary>The upstream for a request, or false when Direct mode has no upstream for that path.</summary>
    /// <param name="kind">For hits, the protocol the parameters speak (<see cref="HitKind"/>); ignored for scripts.</param>
    public bool TryResolve(MeasurementRoute route, HitKind kind, ReadOnlySpan<char> path, ReadOnlySpan<char> rest, ReadOnlySpan<char> query, out UpstreamTarget target)
    {
        if (_mode == GatewayMode.TagGateway)
        {
            // GTG keeps the measurement path and every path under it: fps.goog answers "Measurement path is empty."
            // without it, and whatever path Google's tag invents next is Google's to route.
            target = new UpstreamTarget(Build(_tagGatewayOrigin, path, query), _tagGatewayHost);
            return true;
        }

        if (route == MeasurementRoute.Script)
        {
            target = new UpstreamTarget(Build(_tagManager, rest.IsEmpty ? "/" : rest, query), null);
            return true;
        }

        // Direct mode talks to Google's own hosts, which know only their own paths: a GA4 hit, whichever short
        // path a tag gateway would have used (/ag/g/c, /ga/g/c), is GA4's collect; an Ads ping keeps its path from
        // the first Ads segment on (/gs/ccm/collect -> /ccm/collect).
        if (kind == HitKind.GoogleAnalytics || rest.StartsWith("/g/collect", StringComparison.Ordinal))
        {
            target = new UpstreamTarget(Build(_analytics, "/g/collect", query), null);
            return true;
        }

        foreach (var prefix in AdsPrefixes)
        {
            var at = rest.IndexOf(prefix, StringComparison.Ordinal);
            if (at >= 0)
            {
                target = new UpstreamTarget(Build(_ads, rest[at..], query), null);
                return true;
            }
        }

        target = default;
        return false;
    }

    private static string Build(string origin, ReadOnlySpan<char> path, ReadOnlySpan<char> query) =>
        query.IsEmpty ? string.Concat(origin, path) : string.Concat(origin, path, "?", query);
}
