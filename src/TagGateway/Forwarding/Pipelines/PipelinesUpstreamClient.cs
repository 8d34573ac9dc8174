using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TagGateway.Configuration;
using TagGateway.Routing;

namespace TagGateway.Forwarding.Pipelines;

/// <summary>
/// Our own HTTP/1.1 client for the few origins the configuration names, on System.IO.Pipelines: pooled keep-alive
/// connections (<see cref="OriginPool"/>), the request head written as bytes, the response head parsed strictly and
/// the body relayed to Kestrel's <see cref="System.IO.Pipelines.PipeWriter"/>. Redirects are relayed, never followed:
/// a request only ever goes to the origin of the URL the resolver built from configuration.
/// </summary>
internal sealed class PipelinesUpstreamClient : IHitUpstreamClient, IDisposable
{
    private readonly ConcurrentDictionary<string, OriginPool> _pools = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OriginPool>.AlternateLookup<ReadOnlySpan<char>> _poolLookup;
    private readonly Settings _settings;
    private readonly ILogger<PipelinesUpstreamClient> _logger;

    public PipelinesUpstreamClient(GatewayOptions options, UpstreamTrust trust, TimeProvider time, ILogger<PipelinesUpstreamClient> logger)
        : this(Settings.From(options, trust, time), logger)
    {
    }

    internal PipelinesUpstreamClient(Settings settings, ILogger<PipelinesUpstreamClient> logger)
    {
        _settings = settings;
        _logger = logger;
        _poolLookup = _pools.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Connections opened so far to <paramref name="origin"/> (scheme://authority as configured).</summary>
    internal int ConnectionsOpened(string origin) => _pools.TryGetValue(origin, out var pool) ? pool.Opened : 0;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<IUpstreamResponse> SendAsync(HttpContext context, HitUpstreamRequest request, CancellationToken cancellationToken)
    {
        var pool = GetPool(request.Target, out var pathStart);
        var requestWasHead = HttpMethods.IsHead(context.Request.Method);
        // A body still in memory can be sent again; a streamed one cannot.
        var replayable = request.Content is null || request.Content.TryGetBuffered(out _);
        for (var attempt = 0; ; attempt++)
        {
            var connection = await pool.RentAsync(fresh: attempt > 0, replayable, cancellationToken);
            try
            {
                await connection.SendAsync(context, request, pathStart, cancellationToken);
                await connection.ReadHeadAsync(context.Response, requestWasHead, cancellationToken);
                return connection;
            }
            catch (Exception ex) when (attempt == 0 && replayable && connection.Reused && IsKeepAliveRace(ex, cancellationToken))
            {
                // The upstream closed this idle connection as we reused it (nothing came back): once more on a new
                // connection, never on another idle one that may be as dead.
                pool.Discard(connection, "closed by the upstream while idle");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                pool.Discard(connection, ex is UpstreamProtocolException ? "protocol error" : "send failed");
                throw;
            }
        }
    }

    private static bool IsKeepAliveRace(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && ex is UpstreamProtocolException { NothingReceived: true } or IOException { InnerException: System.Net.Sockets.SocketException };

    /// <summary>The pool for the target's origin (scheme://authority) and TLS name, and where its path begins.</summary>
    private OriginPool GetPool(in UpstreamTarget target, out int pathStart)
    {
        var url = target.Url;
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw new HttpRequestException(HttpRequestError.Unknown, "The upstream URL is not absolute.");
        }

        pathStart = url.AsSpan(schemeEnd + 3).IndexOfAny('/', '?');
        pathStart = pathStart < 0 ? url.Length : pathStart + schemeEnd + 3;
        var origin = url.AsSpan(0, pathStart);
        if (_poolLookup.TryGetValue(origin, out var pool) && pool.Serves(target.Host))
        {
            return pool;
        }

        return GetOrCreatePool(origin.ToString(), target.Host);
    }

    private OriginPool GetOrCreatePool(string origin, string? host)
    {
        // An origin keeps one pool under its own name for the Host it is first used with (a configuration only ever
        // pairs an origin with one Host); another Host on the same https origin is another TLS name, so another pool.
        var key = _pools.TryGetValue(origin, out var first) && !first.Serves(host) ? string.Concat(origin, " ", host) : origin;
        if (_pools.TryGetValue(key, out var pool))
        {
            return pool;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new HttpRequestException(HttpRequestError.Unknown, "The upstream origin is not an http or https URL.");
        }

        var created = new OriginPool(uri, host, _settings, _logger);
        pool = _pools.GetOrAdd(key, created);
        if (!ReferenceEquals(pool, created))
        {
            created.Dispose();
        }

        return pool;
    }

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            pool.Dispose();
        }
    }

    /// <summary>What the pools need from the options, fixed at start-up.</summary>
    /// <param name="ConnectTimeout">For the TCP connect and the TLS handshake together, as SocketsHttpHandler counts it.</param>
    /// <param name="Trust">The roots TLS trusts: the system's, or a test's own (never a switch that skips validation).</param>
    internal sealed record Settings(int MaxConnections, TimeSpan ConnectTimeout, TimeSpan IdleTimeout, TimeSpan Lifetime, UpstreamTrust Trust, TimeProvider Time)
    {
        public static Settings From(GatewayOptions options, UpstreamTrust trust, TimeProvider time)
        {
            ArgumentNullException.ThrowIfNull(options);
            var forwarding = options.Forwarding;
            return new(forwarding.MaxConnectionsPerOrigin, forwarding.ConnectTimeout, forwarding.ConnectionIdleTimeout, forwarding.ConnectionLifetime, trust, time);
        }
    }
}
