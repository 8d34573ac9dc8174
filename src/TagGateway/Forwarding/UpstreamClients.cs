using System.Net;
using TagGateway.Configuration;

namespace TagGateway.Forwarding;

/// <summary>
/// The long-lived HTTP invokers toward Google. One pooled <see cref="SocketsHttpHandler"/> each: no proxy, no
/// redirects followed, no cookie container; hits keep the upstream's encoding untouched, script fetches decompress
/// so the cache can recompress once for every visitor.
/// </summary>
internal sealed class UpstreamClients : IDisposable
{
    public UpstreamClients(GatewayOptions options, UpstreamTrust trust)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(trust);
        Hits = new HttpMessageInvoker(CreateHandler(options.Forwarding.ConnectTimeout, DecompressionMethods.None, trust), disposeHandler: true);
        Scripts = new HttpMessageInvoker(CreateHandler(options.Forwarding.ConnectTimeout, DecompressionMethods.GZip | DecompressionMethods.Brotli | DecompressionMethods.Deflate, trust), disposeHandler: true);
    }

    /// <summary>Over given handlers: benchmarks measure the gateway's own work against an in-memory upstream.</summary>
    internal UpstreamClients(HttpMessageHandler hits, HttpMessageHandler scripts)
    {
        Hits = new HttpMessageInvoker(hits, disposeHandler: true);
        Scripts = new HttpMessageInvoker(scripts, disposeHandler: true);
    }

    /// <summary>Streams measurement hits: bytes in both directions pass as they are.</summary>
    public HttpMessageInvoker Hits { get; }

    /// <summary>Fetches scripts for the cache.</summary>
    public HttpMessageInvoker Scripts { get; }

    private static SocketsHttpHandler CreateHandler(TimeSpan connectTimeout, DecompressionMethods decompression, UpstreamTrust trust)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            // Never followed: a redirect would carry a visitor's hit, body and IP to a host no configuration named. A hit's
            // 3xx goes back to the browser; a script fetch's 3xx is an upstream error (Hostile/RedirectCanaryTests).
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = decompression,
            ConnectTimeout = connectTimeout,
            // Recycle connections so DNS changes on Google's side are picked up.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            EnableMultipleHttp2Connections = true,
            // Google answers with large Set-Cookie and debug headers (its nginx sample raises buffers to 128k).
            MaxResponseHeadersLength = 128, // KiB
            ActivityHeadersPropagator = null,
        };
        trust.Apply(handler.SslOptions);
        return handler;
    }

    public void Dispose()
    {
        Hits.Dispose();
        Scripts.Dispose();
    }
}
