using TagGateway.Configuration;

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
    public bool TryResolve(MeasurementRoute route, ReadOnlySpan<char> path, ReadOnlySpan<char> rest, ReadOnlySpan<char> query, out UpstreamTarget target)
    {
        if (_mode == GatewayMode.TagGateway)
        {
            // GTG keeps the measurement path: fps.goog answers "Measurement path is empty." without it.
            target = new UpstreamTarget(Build(_tagGatewayOrigin, path, query), _tagGatewayHost);
            return true;
        }

        string? origin = route == MeasurementRoute.Script ? _tagManager : null;
        if (origin is null)
        {
            if (rest.StartsWith("/g/collect", StringComparison.Ordinal))
            {
                origin = _analytics;
            }
            else
            {
                foreach (var prefix in AdsPrefixes)
                {
                    if (rest.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        origin = _ads;
                        break;
                    }
                }
            }
        }

        if (origin is null)
        {
            target = default;
            return false;
        }

        target = new UpstreamTarget(Build(origin, rest.IsEmpty ? "/" : rest, query), null);
        return true;
    }

    private static string Build(string origin, ReadOnlySpan<char> path, ReadOnlySpan<char> query) =>
        query.IsEmpty ? string.Concat(origin, path) : string.Concat(origin, path, "?", query);
}
