namespace TagGateway.Scripts;

/// <summary>
/// One script variant as served to browsers: compressed once with Brotli and gzip, a strong ETag per encoding,
/// the upstream's validators for revalidation, and the freshness windows. Immutable; a refresh swaps it whole.
/// A new body is first compressed fast, so the visitor who missed is not kept waiting, and recompressed at the
/// highest levels in the background (<see cref="Uncompressed"/> is kept only until then).
/// </summary>
internal sealed class CachedScript
{
    /// <summary>The body as fetched, while the best compression is still to be done; null once it is.</summary>
    public byte[]? Uncompressed { get; init; }

    public required byte[] Brotli { get; init; }

    public required byte[] Gzip { get; init; }

    public required int IdentityLength { get; init; }

    /// <summary>Base of the strong ETags: a hash of the uncompressed body, so equal bodies share validators.</summary>
    public required string ETagBase { get; init; }

    public required string ETagIdentity { get; init; }

    public required string ETagBrotli { get; init; }

    public required string ETagGzip { get; init; }

    public required string ContentType { get; init; }

    /// <summary>The upstream's Cache-Control, passed to browsers as it came.</summary>
    public required string? CacheControlHeader { get; init; }

    /// <summary>End-to-end headers from the upstream worth relaying (CORS, CORP, nosniff …); never Set-Cookie.</summary>
    public required KeyValuePair<string, string>[] Headers { get; init; }

    /// <summary>The request headers the upstream said the body varies on (besides Accept-Encoding).</summary>
    public required string[] VaryHeaders { get; init; }

    /// <summary>The <c>Vary</c> header sent to browsers.</summary>
    public required string VaryHeader { get; init; }

    public required string? UpstreamETag { get; init; }

    public required string? UpstreamLastModified { get; init; }

    public required DateTimeOffset StoredAt { get; init; }

    /// <summary>Seconds the response had already aged upstream when it was stored.</summary>
    public required TimeSpan InitialAge { get; init; }

    public required DateTimeOffset FreshUntil { get; init; }

    public required DateTimeOffset StaleWhileRevalidateUntil { get; init; }

    public required DateTimeOffset StaleIfErrorUntil { get; init; }

    public long SizeBytes => Brotli.Length + Gzip.Length + (Uncompressed?.Length ?? 0);

    /// <summary>This variant's freshness and headers with another one's bodies and ETags (same content, better compression).</summary>
    public CachedScript WithBodiesOf(CachedScript other) => new()
    {
        Uncompressed = other.Uncompressed,
        Brotli = other.Brotli,
        Gzip = other.Gzip,
        IdentityLength = IdentityLength,
        ETagBase = ETagBase,
        ETagIdentity = ETagIdentity,
        ETagBrotli = other.ETagBrotli,
        ETagGzip = other.ETagGzip,
        ContentType = ContentType,
        CacheControlHeader = CacheControlHeader,
        Headers = Headers,
        VaryHeaders = VaryHeaders,
        VaryHeader = VaryHeader,
        UpstreamETag = UpstreamETag,
        UpstreamLastModified = UpstreamLastModified,
        StoredAt = StoredAt,
        InitialAge = InitialAge,
        FreshUntil = FreshUntil,
        StaleWhileRevalidateUntil = StaleWhileRevalidateUntil,
        StaleIfErrorUntil = StaleIfErrorUntil,
        LastAccessTicks = Volatile.Read(ref LastAccessTicks),
    };

    /// <summary>Last time a browser was served this variant (ticks), for least-recently-used eviction.</summary>
    public long LastAccessTicks;

    /// <summary>1 while this variant waits for (or is in) its best-compression pass (<see cref="ScriptCompressor"/>).</summary>
    public int BestCompressionQueued;

    public TimeSpan AgeAt(DateTimeOffset now) => InitialAge + (now - StoredAt);
}
