using System.Buffers;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Wire;
using TagGateway.Cookies.Issuing;
using TagGateway.Forwarding;
using TagGateway.Observability;
using TagGateway.Routing;

namespace TagGateway.Scripts;

/// <summary>
/// Serves tag scripts from memory: fresh from the cache, stale while a background refresh runs, fetched once for
/// concurrent misses, and the last good body when the upstream fails. Preview and debug loads skip the cache.
/// </summary>
internal sealed partial class ScriptEndpoint
{
    private const int StackKeyLength = 512;

    private static readonly byte[] OverBudgetBody = "script cache miss budget spent; retry later\n"u8.ToArray();
    private static readonly string[] RetryAfterValues = ["0", "1", "2", "3", "4", "5"];

    private readonly ScriptCache _cache;
    private readonly ScriptFetcher _fetcher;
    private readonly TagRegistry _tags;
    private readonly ScriptMissBudget _budget;
    private readonly ScriptCompressor _compressor;
    private readonly UpstreamResolver _upstreams;
    private readonly HitForwarder _forwarder;
    private readonly IdentifierCookieIssuer _cookies;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<ScriptEndpoint> _logger;
    private readonly CancellationToken _stopping;
    private readonly string _defaultCacheControl;

    public ScriptEndpoint(ScriptCache cache, ScriptFetcher fetcher, ScriptMissBudget budget, ScriptCompressor compressor, UpstreamResolver upstreams, TagRegistry tags, HitForwarder forwarder, IdentifierCookieIssuer cookies, GatewayOptions options, TimeProvider time, GatewayMetrics metrics, IHostApplicationLifetime lifetime, ILogger<ScriptEndpoint> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        _cache = cache;
        _fetcher = fetcher;
        _budget = budget;
        _compressor = compressor;
        _upstreams = upstreams;
        _tags = tags;
        _forwarder = forwarder;
        _cookies = cookies;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
        _defaultCacheControl = $"public, max-age={(int)options.Scripts.DefaultMaxAge.TotalSeconds}";
    }

    /// <summary>
    /// Serves a script load whose parameter set <see cref="ScriptLoadQuery.Validate"/> accepted. <paramref name="upstream"/>
    /// carries the query as it came and is used only by loads that bypass the cache; a cached load is keyed on, and
    /// fetched with, only the parameters that change Google's answer.
    /// </summary>
    public Task HandleAsync(HttpContext context, RequestTarget target, in ScriptLoadQuery load, UpstreamTarget upstream, ClientInfo client, ConsentDecision consent)
    {
        if (load.Kind != ScriptLoadKind.Cacheable)
        {
            // Preview and Tag Assistant need the live container and their cookies; a diagnostics beacon is a
            // measurement answered 204. Both go straight through, streamed and uncompressed: no compression to bound.
            _metrics.CacheLookup("bypass");
            return _forwarder.ForwardAsync(context, upstream, client, consent, MetricTags.Script);
        }

        // A script load carries no consent signal (only a region default), so it mints, refreshes and expires nothing:
        // the page's first hit, with the page's own consent state, decides.
        _cookies.Apply(context, consent, CookieOccasion.ScriptLoad, client.SiteHost, client.IsHttps, pageUrl: []);

        // Primary key: the path after the measurement path, the keyed parameters in a fixed order (never the junk a
        // cache-buster adds), and the geolocation the upstream will see.
        var geo = client.CountryRegion.AsSpan();
        var canonicalLength = load.CanonicalLength(target.Query);
        var length = target.Rest.Length + canonicalLength + geo.Length + 2;
        char[]? rented = null;
        var key = length <= StackKeyLength ? stackalloc char[StackKeyLength] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            target.Rest.CopyTo(key);
            var at = target.Rest.Length;
            key[at++] = '?';
            var canonicalAt = at;
            at += load.WriteCanonical(target.Query, key[at..]);
            var canonical = key[canonicalAt..at];
            key[at++] = '|';
            geo.CopyTo(key[at..]);
            at += geo.Length;
            return ServeAsync(context, key[..at], target.Path, target.Rest, canonical, client);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Refuses a script load whose parameter set did not pass: 400, or 403 for a well-formed ID not configured here,
    /// with a short plain-text reason. The body names the ID only when it is one (tag ID syntax); nothing else of
    /// the request is echoed.
    /// </summary>
    public Task RefuseAsync(HttpContext context, ScriptLoadVerdict verdict, ReadOnlySpan<char> query, in ScriptLoadQuery load)
    {
        ArgumentNullException.ThrowIfNull(context);
        var refused = query[load.Refused];
        var (status, reason, body) = verdict switch
        {
            ScriptLoadVerdict.UnknownId => (StatusCodes.Status403Forbidden, "unknown_tag_id", $"tag ID {refused} is not configured on this gateway\n"),
            ScriptLoadVerdict.MissingId => (StatusCodes.Status400BadRequest, "missing_tag_id", "a script load names its tag in one id parameter\n"),
            ScriptLoadVerdict.RepeatedId => (StatusCodes.Status400BadRequest, "repeated_tag_id", "a script load names one tag: id appears more than once\n"),
            ScriptLoadVerdict.DisguisedId => (StatusCodes.Status400BadRequest, "disguised_tag_id", "the tag parameter is spelled id: lower case, not encoded, no brackets\n"),
            ScriptLoadVerdict.MalformedId => (StatusCodes.Status400BadRequest, "malformed_tag_id", "id is not a Google tag ID (G-, GT-, GTM-, AW- or DC- and 4-16 upper-case letters or digits)\n"),
            _ => (StatusCodes.Status400BadRequest, "malformed_script_parameter", "l, cx, gtm and tag_exp take letters, digits and . _ ~ - $ only\n"),
        };

        if (_logger.IsEnabled(LogLevel.Information))
        {
            // Built only when it will be written: refusals are what a flood is made of.
            var tagId = Describe(refused);
            Log.Refused(_logger, status, reason, tagId, context.Connection.RemoteIpAddress);
        }

        _metrics.Rejected(reason);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/plain; charset=utf-8";
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    /// <summary>A refused ID for the log: itself when it has tag ID syntax, else only its length and what is wrong with it.</summary>
    internal static string Describe(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return "(none)";
        }

        if (TagId.IsValid(value))
        {
            return value.ToString();
        }

        Span<char> upper = stackalloc char[TagId.MaxLength];
        var what = value.Contains('%') ? "percent-encoded"
            : value.Length <= TagId.MaxLength && value.ToUpperInvariant(upper) == value.Length && TagId.IsValid(upper[..value.Length]) ? "a tag ID in the wrong case"
            : "not a tag ID";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({value.Length} characters, {what})");
    }

    private Task ServeAsync(HttpContext context, ReadOnlySpan<char> primaryKey, ReadOnlySpan<char> path, ReadOnlySpan<char> rest, ReadOnlySpan<char> canonicalQuery, ClientInfo client)
    {
        var now = _time.GetUtcNow();
        CachedScript? cached = null;
        var slot = _cache.Find(primaryKey);
        string? varyKey = null;
        if (slot is not null)
        {
            varyKey = ScriptRequestHeaders.VaryKey(context.Request.Headers, slot.VaryHeaders);
            slot.Variants.TryGetValue(varyKey, out cached);
        }

        if (cached is not null && now <= cached.StaleWhileRevalidateUntil)
        {
            Volatile.Write(ref cached.LastAccessTicks, now.UtcTicks);

            // Served from the cache at least twice now: worth the best compression (a key asked for once is not).
            if (cached.Uncompressed is not null)
            {
                _compressor.Schedule(slot!.Key, varyKey!, cached);
            }

            if (now <= cached.FreshUntil)
            {
                _metrics.CacheLookup("hit");
                return ScriptResponder.WriteAsync(context, cached, "hit", now, _defaultCacheControl);
            }

            // Stale but within stale-while-revalidate: this visitor gets it now, the next one a refreshed copy.
            _metrics.CacheLookup("stale");
            _ = FetchAndStoreAsync(primaryKey.ToString(), varyKey!, Upstream(path, rest, canonicalQuery), ScriptRequestHeaders.From(context.Request.Headers, client.CountryRegion), cached, background: true);
            return ScriptResponder.WriteAsync(context, cached, "stale", now, _defaultCacheControl);
        }

        return MissAsync(context, primaryKey.ToString(), Upstream(path, rest, canonicalQuery), client, cached);
    }

    /// <summary>The upstream URL of a cached load: the keyed parameters only, so the fetch is exactly what the key names.</summary>
    private UpstreamTarget Upstream(ReadOnlySpan<char> path, ReadOnlySpan<char> rest, ReadOnlySpan<char> canonicalQuery) =>
        _upstreams.TryResolve(MeasurementRoute.Script, Hits.HitKind.Other, path, rest, canonicalQuery, out var target)
            ? target
            : throw new InvalidOperationException("Every mode has an upstream for scripts.");

    private async Task MissAsync(HttpContext context, string primaryKey, UpstreamTarget upstream, ClientInfo client, CachedScript? cached)
    {
        var visitor = ScriptRequestHeaders.From(context.Request.Headers, client.CountryRegion);
        var varyKey = cached is null ? string.Empty : visitor.VaryKey(cached.VaryHeaders);
        var result = await FetchAndStoreAsync(primaryKey, varyKey, upstream, visitor, cached, background: false);
        var now = _time.GetUtcNow();
        switch (result.Status)
        {
            case FetchStatus.Fetched or FetchStatus.Uncacheable:
                _metrics.CacheLookup("miss");
                await ScriptResponder.WriteAsync(context, result.Script!, "miss", now, _defaultCacheControl);
                _metrics.RequestCompleted(MetricTags.Script, MetricTags.Ok);
                return;
            case FetchStatus.Revalidated:
                _metrics.CacheLookup("revalidated");
                await ScriptResponder.WriteAsync(context, result.Script!, "revalidated", now, _defaultCacheControl);
                _metrics.RequestCompleted(MetricTags.Script, MetricTags.Ok);
                return;
            case FetchStatus.PassThrough:
                _metrics.CacheLookup("miss");
                context.Response.StatusCode = result.PassThroughStatus;
                context.Response.ContentType = result.PassThroughContentType;
                context.Response.Headers.CacheControl = "no-store";
                await context.Response.Body.WriteAsync(result.PassThroughBody, context.RequestAborted);
                _metrics.RequestCompleted(MetricTags.Script, MetricTags.ClientError);
                return;
        }

        if (result.Status == FetchStatus.OverBudget)
        {
            // Nothing cached for this key and the miss budget spent: a clear, cheap refusal instead of a meltdown.
            _metrics.CacheLookup("over_budget");
            _metrics.ScriptMissRefused();
            _metrics.RequestCompleted(MetricTags.Script, MetricTags.Overloaded);
            if (_budget.TryReport(out var refused))
            {
                Log.MissBudgetSpent(_logger, refused);
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.RetryAfter = RetryAfter(_budget.RetryAfterSeconds);
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.Body.WriteAsync(OverBudgetBody, context.RequestAborted);
            return;
        }

        // The upstream failed: the last good body, within stale-if-error, beats no tag at all.
        if (cached is not null && now <= cached.StaleIfErrorUntil)
        {
            _metrics.CacheLookup("stale_if_error");
            Log.ServedStale(_logger, primaryKey, cached.AgeAt(now));
            await ScriptResponder.WriteAsync(context, cached, "stale-if-error", now, _defaultCacheControl);
            _metrics.RequestCompleted(MetricTags.Script, MetricTags.Ok);
            return;
        }

        _metrics.CacheLookup("error");
        var timeout = result.Status == FetchStatus.UpstreamTimeout;
        _metrics.RequestCompleted(MetricTags.Script, timeout ? MetricTags.UpstreamTimeout : MetricTags.UpstreamError);
        context.Response.StatusCode = timeout ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        context.Response.Headers.CacheControl = "no-store";
    }

    private async Task<FetchResult> FetchAndStoreAsync(string primaryKey, string varyKey, UpstreamTarget upstream, ScriptRequestHeaders visitor, CachedScript? cached, bool background)
    {
        try
        {
            // One fetch per variant at a time, whoever asks; a background refresh never takes the request's token.
            return await _cache.FetchOnceAsync(primaryKey + "\n" + varyKey, async () =>
            {
                // A key with nothing cached spends a token; concurrent misses share this one fetch and its token.
                if (cached is null && !_budget.TryTake())
                {
                    return FetchResult.Failed(FetchStatus.OverBudget);
                }

                var result = await _fetcher.FetchAsync(upstream, visitor, cached, _stopping);
                if (result.Status is FetchStatus.Fetched or FetchStatus.Revalidated)
                {
                    _cache.Store(primaryKey, visitor.VaryKey(result.Script!.VaryHeaders), result.Script);
                }

                // A configured container names the Google tag and Ads destinations it loads through this path.
                if (result.Status == FetchStatus.Fetched && _tags.HasContainers && result.Script!.Uncompressed is { } body)
                {
                    LearnDestinations(primaryKey, body);
                }

                return result;
            });
        }
        catch (Exception ex) when (background)
        {
            // A refresh nobody waits for must not go unobserved.
            Log.RefreshFailed(_logger, primaryKey, ex);
            return FetchResult.Failed(FetchStatus.UpstreamUnavailable);
        }
    }

    private void LearnDestinations(string primaryKey, byte[] body)
    {
        var question = primaryKey.IndexOf('?', StringComparison.Ordinal);
        var end = primaryKey.IndexOf('|', StringComparison.Ordinal);
        if (question < 0 || !QueryPairs.TryGetFirstRawValue(primaryKey.AsSpan(question + 1, (end < 0 ? primaryKey.Length : end) - question - 1), "id", out var id))
        {
            return;
        }

        if (_tags.LearnFromContainer(id, body) is var learned and > 0)
        {
            Log.Learned(_logger, learned, _tags.LearnedCount);
        }
    }

    private static string RetryAfter(int seconds) =>
        seconds < RetryAfterValues.Length ? RetryAfterValues[seconds] : seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1211, Level = LogLevel.Information, Message = "A configured container named {Count} more destination ID(s) whose scripts this gateway now serves ({Total} learned)")]
        public static partial void Learned(ILogger logger, int count, int total);

        [LoggerMessage(EventId = 1210, Level = LogLevel.Information, Message = "Refused script load with {StatusCode}: {Reason}, tag ID {TagId} (peer {Peer})")]
        public static partial void Refused(ILogger logger, int statusCode, string reason, string tagId, System.Net.IPAddress? peer);

        [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Upstream unavailable; served the stale script {Key} aged {Age}")]
        public static partial void ServedStale(ILogger logger, string key, TimeSpan age);

        [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Background refresh of {Key} failed")]
        public static partial void RefreshFailed(ILogger logger, string key, Exception exception);

        [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Script miss budget spent: refused {Count} loads of uncached script keys with 503 since the last report; raise Gateway:Scripts:MaxMissesPerSecond if these are real visitors")]
        public static partial void MissBudgetSpent(ILogger logger, long count);
    }
}
