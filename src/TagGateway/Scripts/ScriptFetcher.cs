using System.Buffers;
using System.Collections.Frozen;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using TagGateway.Configuration;
using TagGateway.Forwarding;
using TagGateway.Observability;
using TagGateway.Routing;

namespace TagGateway.Scripts;

/// <summary>What one upstream script fetch produced.</summary>
internal readonly record struct FetchResult(FetchStatus Status, CachedScript? Script, int PassThroughStatus, byte[]? PassThroughBody, string? PassThroughContentType)
{
    public static FetchResult Failed(FetchStatus status) => new(status, null, 0, null, null);
}

internal enum FetchStatus
{
    /// <summary>A new body (200), stored.</summary>
    Fetched,

    /// <summary>The upstream confirmed the cached body (304); freshness renewed.</summary>
    Revalidated,

    /// <summary>A fresh body the upstream forbade storing (<c>no-store</c>, <c>Vary: *</c>): served once.</summary>
    Uncacheable,

    /// <summary>A client error from the upstream (an unknown container is a 404): relayed, not stored.</summary>
    PassThrough,

    UpstreamUnavailable,
    UpstreamTimeout,

    /// <summary>Not fetched: nothing was cached for the key and the miss budget was spent (<see cref="ScriptMissBudget"/>).</summary>
    OverBudget,
}

/// <summary>Fetches a script from the upstream, decompressed, then compresses it once for every visitor.</summary>
internal sealed partial class ScriptFetcher : IDisposable
{
    /// <summary>Visitor headers a script fetch carries, so the upstream may vary on them and the cache keys on them.</summary>
    internal static readonly string[] VaryCandidates = ["User-Agent", "Accept-Language", "Sec-CH-UA", "Sec-CH-UA-Mobile", "Sec-CH-UA-Platform"];

    private static readonly FrozenSet<string> VaryCandidateSet = VaryCandidates.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    // Headers the cache owns or that must never be shared between visitors.
    private static readonly FrozenSet<string> NotStored = new[]
    {
        "Set-Cookie", "Set-Cookie2", "Content-Length", "Content-Encoding", "Content-Type", "ETag", "Last-Modified", "Date", "Age",
        "Vary", "Expires", "Cache-Control", "Connection", "Keep-Alive", "Transfer-Encoding", "Alt-Svc", "Server", "Trailer", "Upgrade",
        "Content-Range", "Accept-Ranges", "Report-To", "NEL", "Strict-Transport-Security",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly SemaphoreSlim _fastCompressions = new(Math.Max(1, Environment.ProcessorCount / 2));
    private readonly HttpMessageInvoker _invoker;
    private readonly ScriptCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<ScriptFetcher> _logger;

    public ScriptFetcher(UpstreamClients clients, GatewayOptions options, TimeProvider time, GatewayMetrics metrics, ILogger<ScriptFetcher> logger)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        _invoker = clients.Scripts;
        _options = options.Scripts;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    public void Dispose() => _fastCompressions.Dispose();

    /// <summary>Fetches <paramref name="target"/>; with <paramref name="previous"/>, revalidates it.</summary>
    public async Task<FetchResult> FetchAsync(UpstreamTarget target, ScriptRequestHeaders visitor, CachedScript? previous, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, target.Url)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        if (target.Host is not null)
        {
            request.Headers.Host = target.Host;
        }

        // No cookie and no visitor IP: the body is shared by every visitor with the same key.
        foreach (var (name, value) in visitor.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (visitor.CountryRegion is not null)
        {
            request.Headers.TryAddWithoutValidation(ClientIdentity.EdgeHeaders.ForwardedCountryRegion, visitor.CountryRegion);
        }

        if (previous?.UpstreamETag is { } etag)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        }
        else if (previous?.UpstreamLastModified is { } lastModified)
        {
            request.Headers.TryAddWithoutValidation("If-Modified-Since", lastModified);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.FetchTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _invoker.SendAsync(request, timeout.Token);
            _metrics.UpstreamResponded(MetricTags.Script, Stopwatch.GetElapsedTime(started).TotalSeconds);
            var status = (int)response.StatusCode;

            if (status == StatusCodes.Status304NotModified && previous is not null)
            {
                return new FetchResult(FetchStatus.Revalidated, Renew(previous, response), 0, null, null);
            }

            if (status >= 500 || status == StatusCodes.Status304NotModified || status is >= 300 and < 400)
            {
                // Redirects and server errors are not script bodies; stale-if-error may cover for them.
                Log.UpstreamStatus(_logger, target.UrlForLog, status);
                return FetchResult.Failed(FetchStatus.UpstreamUnavailable);
            }

            var body = await ReadBodyAsync(response.Content, _options.MaxBodyBytes, timeout.Token);
            if (body is null)
            {
                Log.BodyTooLarge(_logger, target.UrlForLog, _options.MaxBodyBytes);
                return FetchResult.Failed(FetchStatus.UpstreamUnavailable);
            }

            var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/javascript; charset=utf-8";
            if (status != StatusCodes.Status200OK)
            {
                return new FetchResult(FetchStatus.PassThrough, null, status, body, contentType);
            }

            // Compressing takes milliseconds of CPU per miss: off the socket thread this continuation may be running
            // on (inline completions), and only half the cores' worth at once, so misses queue here rather than take
            // every core from the requests that hit.
            await _fastCompressions.WaitAsync(timeout.Token);
            byte[] brotli, gzip;
            try
            {
                (brotli, gzip) = await Task.Run(() => (Compress(body, brotli: true, best: false), Compress(body, brotli: false, best: false)), CancellationToken.None);
            }
            finally
            {
                _fastCompressions.Release();
            }

            var script = Build(body, brotli, gzip, contentType, response, out var storable);
            return new FetchResult(storable ? FetchStatus.Fetched : FetchStatus.Uncacheable, script, 0, null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.FetchTimedOut(_logger, target.UrlForLog, _options.FetchTimeout);
            return FetchResult.Failed(FetchStatus.UpstreamTimeout);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            Log.FetchFailed(_logger, target.UrlForLog, ex);
            return FetchResult.Failed(FetchStatus.UpstreamUnavailable);
        }
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    return null;
                }
            }

            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private CachedScript Build(byte[] body, byte[] brotli, byte[] gzip, string contentType, HttpResponseMessage response, out bool storable)
    {
        var cacheControlHeader = response.Headers.TryGetValues("Cache-Control", out var cc) ? string.Join(", ", cc) : null;
        var directives = CacheControl.Parse(cacheControlHeader);
        var varyHeaders = ParseVary(response, out var varyStar);
        storable = !directives.NoStore && !varyStar;

        var hash = SHA256.HashData(body);
        var etagBase = Convert.ToBase64String(hash.AsSpan(0, 12)).Replace('+', '-').Replace('/', '_');

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var header in response.Headers.NonValidated)
        {
            if (!NotStored.Contains(header.Key) && !HeaderRules.IsDroppedResponseHeader(header.Key))
            {
                headers.Add(new(header.Key, header.Value.ToString()));
            }
        }

        var setCookies = response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.Count() : 0;
        if (setCookies > 0)
        {
            Log.SetCookieNotCached(_logger, setCookies);
        }

        var now = _time.GetUtcNow();
        var age = response.Headers.Age ?? TimeSpan.Zero;
        var windows = Windows(directives, age, now);
        return new CachedScript
        {
            // Fast first: Brotli-11 of a 340 KB gtag.js takes half a second, which the visitor who missed would wait for.
            Uncompressed = body,
            Brotli = brotli,
            Gzip = gzip,
            IdentityLength = body.Length,
            ETagBase = etagBase,
            ETagIdentity = $"\"{etagBase}\"",
            ETagBrotli = $"\"{etagBase}.br{FastBrotliQuality}\"",
            ETagGzip = $"\"{etagBase}.gz1\"",
            ContentType = contentType,
            CacheControlHeader = cacheControlHeader,
            Headers = headers.ToArray(),
            VaryHeaders = varyHeaders,
            VaryHeader = varyHeaders.Length == 0 ? "Accept-Encoding" : "Accept-Encoding, " + string.Join(", ", varyHeaders),
            UpstreamETag = response.Headers.ETag?.ToString(),
            UpstreamLastModified = response.Content.Headers.LastModified?.ToString("R"),
            StoredAt = now,
            InitialAge = age,
            FreshUntil = windows.Fresh,
            StaleWhileRevalidateUntil = windows.StaleWhileRevalidate,
            StaleIfErrorUntil = windows.StaleIfError,
            LastAccessTicks = now.UtcTicks,
        };
    }

    /// <summary>A 304 renews freshness (and may update Cache-Control) without touching the body.</summary>
    private CachedScript Renew(CachedScript previous, HttpResponseMessage response)
    {
        var cacheControlHeader = response.Headers.TryGetValues("Cache-Control", out var cc) ? string.Join(", ", cc) : previous.CacheControlHeader;
        var now = _time.GetUtcNow();
        var age = response.Headers.Age ?? TimeSpan.Zero;
        var windows = Windows(CacheControl.Parse(cacheControlHeader), age, now);
        return new CachedScript
        {
            Uncompressed = previous.Uncompressed,
            Brotli = previous.Brotli,
            Gzip = previous.Gzip,
            IdentityLength = previous.IdentityLength,
            ETagBase = previous.ETagBase,
            ETagIdentity = previous.ETagIdentity,
            ETagBrotli = previous.ETagBrotli,
            ETagGzip = previous.ETagGzip,
            ContentType = previous.ContentType,
            CacheControlHeader = cacheControlHeader,
            Headers = previous.Headers,
            VaryHeaders = previous.VaryHeaders,
            VaryHeader = previous.VaryHeader,
            UpstreamETag = response.Headers.ETag?.ToString() ?? previous.UpstreamETag,
            UpstreamLastModified = previous.UpstreamLastModified,
            StoredAt = now,
            InitialAge = age,
            FreshUntil = windows.Fresh,
            StaleWhileRevalidateUntil = windows.StaleWhileRevalidate,
            StaleIfErrorUntil = windows.StaleIfError,
            LastAccessTicks = now.UtcTicks,
        };
    }

    /// <summary>When a stored response stops being fresh, and how long after that it may still be served.</summary>
    private (DateTimeOffset Fresh, DateTimeOffset StaleWhileRevalidate, DateTimeOffset StaleIfError) Windows(CacheControl directives, TimeSpan age, DateTimeOffset now)
    {
        // A shared cache prefers s-maxage. Google marks its loaders "private" although the gateway's fetch
        // carries nothing of the visitor (no cookie, no IP), so the body is the same for every visitor with this key.
        var lifetime = directives.NoCache ? TimeSpan.Zero : directives.SharedMaxAge ?? directives.MaxAge ?? _options.DefaultMaxAge;
        if (lifetime > _options.MaxMaxAge)
        {
            lifetime = _options.MaxMaxAge;
        }

        var fresh = lifetime - age;
        if (fresh < TimeSpan.Zero)
        {
            fresh = TimeSpan.Zero;
        }

        var swr = directives.MustRevalidate || directives.NoCache ? TimeSpan.Zero : Min(directives.StaleWhileRevalidate ?? _options.StaleWhileRevalidate, _options.StaleWhileRevalidate);
        var sie = directives.MustRevalidate ? TimeSpan.Zero : Min(directives.StaleIfError ?? _options.StaleIfError, _options.StaleIfError);
        var freshUntil = now + fresh;
        return (freshUntil, freshUntil + swr, freshUntil + sie);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static string[] ParseVary(HttpResponseMessage response, out bool varyStar)
    {
        varyStar = false;
        var names = new List<string>();
        foreach (var value in response.Headers.Vary)
        {
            if (value == "*")
            {
                varyStar = true;
            }
            else if (VaryCandidateSet.TryGetValue(value, out var canonical) && !names.Contains(canonical))
            {
                names.Add(canonical);
            }

            // Any other name (Cookie, Accept-Encoding …) is never sent on a script fetch, or is handled by the cache itself.
        }

        names.Sort(StringComparer.Ordinal);
        return names.ToArray();
    }

    // Quality 4: about 6 ms for a 340 KB gtag.js here (5 took 11) for a body 6% larger, served only until the
    // background pass at 11 lands, half a second later; gzip level 1 runs beside it and takes about 3.
    internal const int FastBrotliQuality = 4;

    /// <summary>The same script at the highest compression levels, for the background pass after a fetch.</summary>
    public static CachedScript CompressBest(CachedScript fast)
    {
        ArgumentNullException.ThrowIfNull(fast);
        var body = fast.Uncompressed ?? throw new InvalidOperationException("The script is already compressed at its best.");
        var best = new CachedScript
        {
            Uncompressed = null,
            // The highest level is not always the smallest (a tiny body can come out larger): keep the smaller bytes.
            Brotli = Smaller(Compress(body, brotli: true, best: true), fast.Brotli),
            Gzip = Smaller(Compress(body, brotli: false, best: true), fast.Gzip),
            IdentityLength = fast.IdentityLength,
            ETagBase = fast.ETagBase,
            ETagIdentity = fast.ETagIdentity,
            ETagBrotli = $"\"{fast.ETagBase}.br\"",
            ETagGzip = $"\"{fast.ETagBase}.gz\"",
            ContentType = fast.ContentType,
            CacheControlHeader = fast.CacheControlHeader,
            Headers = fast.Headers,
            VaryHeaders = fast.VaryHeaders,
            VaryHeader = fast.VaryHeader,
            UpstreamETag = fast.UpstreamETag,
            UpstreamLastModified = fast.UpstreamLastModified,
            StoredAt = fast.StoredAt,
            InitialAge = fast.InitialAge,
            FreshUntil = fast.FreshUntil,
            StaleWhileRevalidateUntil = fast.StaleWhileRevalidateUntil,
            StaleIfErrorUntil = fast.StaleIfErrorUntil,
        };
        return best;
    }

    private static byte[] Smaller(byte[] best, byte[]? fast) => fast is not null && fast.Length < best.Length ? fast : best;

    internal static byte[] Compress(byte[] body, bool brotli, bool best)
    {
        if (brotli)
        {
            // A window fitted to the body: the same bytes out, but the encoder's memory sized to a script, not 16 MB.
            var window = Math.Clamp((int)Math.Ceiling(Math.Log2(body.Length + 16)), 10, 24);
            var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(body.Length)];
            if (!BrotliEncoder.TryCompress(body, buffer, out var written, best ? 11 : FastBrotliQuality, window))
            {
                throw new InvalidOperationException("Brotli compression did not fit its maximum length.");
            }

            return buffer.AsSpan(0, written).ToArray();
        }

        using var output = new MemoryStream(body.Length / 3 + 64);
        using (var encoder = new GZipStream(output, best ? CompressionLevel.SmallestSize : CompressionLevel.Fastest, leaveOpen: true))
        {
            encoder.Write(body);
        }

        return output.ToArray();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Script fetch from {Url} failed")]
        public static partial void FetchFailed(ILogger logger, string url, Exception exception);

        [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Script fetch from {Url} timed out after {Timeout}")]
        public static partial void FetchTimedOut(ILogger logger, string url, TimeSpan timeout);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Script fetch from {Url} answered {StatusCode}")]
        public static partial void UpstreamStatus(ILogger logger, string url, int statusCode);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Script from {Url} exceeds {Limit} bytes; not served")]
        public static partial void BodyTooLarge(ILogger logger, string url, int limit);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Debug, Message = "Script response carried {Count} Set-Cookie header(s); not cached, since a cached body is shared by every visitor")]
        public static partial void SetCookieNotCached(ILogger logger, int count);
    }
}
