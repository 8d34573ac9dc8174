using System.Buffers;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Consent.Policy;
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

    private readonly ScriptCache _cache;
    private readonly ScriptFetcher _fetcher;
    private readonly HitForwarder _forwarder;
    private readonly IdentifierCookieIssuer _cookies;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<ScriptEndpoint> _logger;
    private readonly CancellationToken _stopping;
    private readonly string _defaultCacheControl;

    public ScriptEndpoint(ScriptCache cache, ScriptFetcher fetcher, HitForwarder forwarder, IdentifierCookieIssuer cookies, GatewayOptions options, TimeProvider time, GatewayMetrics metrics, IHostApplicationLifetime lifetime, ILogger<ScriptEndpoint> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        _cache = cache;
        _fetcher = fetcher;
        _forwarder = forwarder;
        _cookies = cookies;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
        _defaultCacheControl = $"public, max-age={(int)options.Scripts.DefaultMaxAge.TotalSeconds}";
    }

    public Task HandleAsync(HttpContext context, RequestTarget target, UpstreamTarget upstream, ClientInfo client, ConsentDecision consent)
    {
        if (MeasurementRoutes.IsDebug(target.Query))
        {
            // Tag Assistant and preview need the live container and their cookies: straight through.
            _metrics.CacheLookup("bypass");
            return _forwarder.ForwardAsync(context, upstream, client, consent, MetricTags.Script);
        }

        // A script load is a first-party response like any other: identifier cookies ride on it when consent allows.
        _cookies.Apply(context, consent, client.SiteHost, client.IsHttps, pageUrl: []);

        // Primary key: what comes after the measurement path, and the geolocation the upstream will see.
        var geo = client.CountryRegion.AsSpan();
        var length = target.Rest.Length + target.Query.Length + geo.Length + 2;
        char[]? rented = null;
        var key = length <= StackKeyLength ? stackalloc char[StackKeyLength] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            target.Rest.CopyTo(key);
            var at = target.Rest.Length;
            key[at++] = '?';
            target.Query.CopyTo(key[at..]);
            at += target.Query.Length;
            key[at++] = '|';
            geo.CopyTo(key[at..]);
            at += geo.Length;
            return ServeAsync(context, key[..at], upstream, client);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private Task ServeAsync(HttpContext context, ReadOnlySpan<char> primaryKey, UpstreamTarget upstream, ClientInfo client)
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
            if (now <= cached.FreshUntil)
            {
                _metrics.CacheLookup("hit");
                return ScriptResponder.WriteAsync(context, cached, "hit", now, _defaultCacheControl);
            }

            // Stale but within stale-while-revalidate: this visitor gets it now, the next one a refreshed copy.
            _metrics.CacheLookup("stale");
            _ = FetchAndStoreAsync(primaryKey.ToString(), varyKey!, upstream, ScriptRequestHeaders.From(context.Request.Headers, client.CountryRegion), cached, background: true);
            return ScriptResponder.WriteAsync(context, cached, "stale", now, _defaultCacheControl);
        }

        return MissAsync(context, primaryKey.ToString(), upstream, client, cached);
    }

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

        // The upstream failed: the last good body, within stale-if-error, beats no tag at all.
        if (cached is not null && now <= cached.StaleIfErrorUntil)
        {
            _metrics.CacheLookup("stale_if_error");
            LogServedStale(primaryKey, cached.AgeAt(now));
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
                var result = await _fetcher.FetchAsync(upstream, visitor, cached, _stopping);
                if (result.Status is FetchStatus.Fetched or FetchStatus.Revalidated)
                {
                    var storedVaryKey = visitor.VaryKey(result.Script!.VaryHeaders);
                    _cache.Store(primaryKey, storedVaryKey, result.Script);
                    if (result.Script.Uncompressed is not null)
                    {
                        _ = CompressBestAsync(primaryKey, storedVaryKey, result.Script);
                    }
                }

                return result;
            });
        }
        catch (Exception ex) when (background)
        {
            // A refresh nobody waits for must not go unobserved.
            LogRefreshFailed(primaryKey, ex);
            return FetchResult.Failed(FetchStatus.UpstreamUnavailable);
        }
    }

    /// <summary>The highest compression levels, off the request path; the variant is swapped when done.</summary>
    private async Task CompressBestAsync(string primaryKey, string varyKey, CachedScript fast)
    {
        CompressionMemory.Started();
        try
        {
            var best = await Task.Run(() => ScriptFetcher.CompressBest(fast), _stopping);
            _cache.ReplaceBodies(primaryKey, varyKey, best);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: the fast bodies serve until then.
        }
        catch (Exception ex) when (ex is InvalidOperationException or OutOfMemoryException)
        {
            LogRefreshFailed(primaryKey, ex);
        }
        finally
        {
            CompressionMemory.Finished();
        }
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "Upstream unavailable; served the stale script {Key} aged {Age}")]
    private partial void LogServedStale(string key, TimeSpan age);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Background refresh of {Key} failed")]
    private partial void LogRefreshFailed(string key, Exception exception);
}
