using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace TagGateway.Forwarding.Pipelines;

/// <summary>
/// The keep-alive connections to one configured origin: at most <c>MaxConnectionsPerOrigin</c> open (requests
/// beyond it wait within their timeout), the most recently used reused first, none past its lifetime or idle
/// timeout, none the upstream has closed. TLS for https, its server name (SNI, and the name the certificate must
/// hold) that of the Host header sent, else the origin's host: as SocketsHttpHandler does, so both clients agree.
/// </summary>
internal sealed partial class OriginPool : IDisposable
{
    private readonly Lock _lock = new();
    private readonly UpstreamConnection[] _idle;
    private readonly SemaphoreSlim _slots;
    private readonly PipelinesUpstreamClient.Settings _settings;
    private readonly ILogger _logger;
    private readonly ITimer _scavenger;
    private readonly string _host;
    private readonly int _port;
    private readonly bool _https;
    private int _idleCount;
    private bool _disposed;

    /// <param name="host">The Host header the requests carry (null: the origin's authority), which names the TLS server.</param>
    public OriginPool(Uri origin, string? host, PipelinesUpstreamClient.Settings settings, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(origin);
        _settings = settings;
        _logger = logger;
        _https = origin.Scheme == Uri.UriSchemeHttps;
        _host = origin.IdnHost;
        _port = origin.Port;
        ServerName = ServerNameOf(host ?? origin.IdnHost).ToString();
        Authority = origin.IsDefaultPort ? origin.IdnHost : $"{origin.IdnHost}:{origin.Port}";
        Name = origin.GetLeftPart(UriPartial.Authority);
        _idle = new UpstreamConnection[settings.MaxConnections];
        _slots = new SemaphoreSlim(settings.MaxConnections, settings.MaxConnections);
        var period = TimeSpan.FromTicks(Math.Clamp(settings.IdleTimeout.Ticks / 2, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        _scavenger = settings.Time.CreateTimer(static state => ((OriginPool)state!).Scavenge(), this, period, period);
    }

    /// <summary>The Host header when the target names none: the origin's host, with its port unless the default.</summary>
    public string Authority { get; }

    /// <summary>The origin for logs.</summary>
    public string Name { get; }

    /// <summary>The TLS server name: sent as SNI and checked against the certificate.</summary>
    public string ServerName { get; }

    /// <summary>Whether requests with this Host header may use this pool (over TLS, only with the same server name).</summary>
    public bool Serves(string? host) =>
        !_https || ServerNameOf(host ?? _host).Equals(ServerName, StringComparison.OrdinalIgnoreCase);

    /// <summary>The host name of a Host header: without its port, an IPv6 literal without its brackets.</summary>
    internal static ReadOnlySpan<char> ServerNameOf(ReadOnlySpan<char> host)
    {
        if (host.StartsWith('['))
        {
            var end = host.IndexOf(']');
            return end > 0 ? host[1..end] : host;
        }

        var colon = host.LastIndexOf(':');
        return colon >= 0 ? host[..colon] : host;
    }

    /// <summary>Connections opened so far (tests and the setup check read it).</summary>
    public int Opened => Volatile.Read(ref _opened);

    private int _opened;

    /// <summary>A connection for one exchange: an idle one that is still good, else a new one.</summary>
    /// <param name="fresh">A new connection whatever is idle: the retry after a reused one turned out closed, since
    /// the upstream may well have closed the other idle ones too.</param>
    /// <param name="replayable">Whether the request can be sent again on a new connection if this one turns out closed.</param>
    public async ValueTask<UpstreamConnection> RentAsync(bool fresh, bool replayable, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            while (!fresh && TryPopIdle(out var idle))
            {
                if (IsFresh(idle) && ((replayable && JustReturned(idle)) || idle.LooksAlive()))
                {
                    return idle;
                }

                Log.ConnectionClosed(_logger, Name, "stale");
                idle.Close();
            }

            return await ConnectAsync(cancellationToken);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>Takes back a connection whose exchange ended cleanly.</summary>
    public void Return(UpstreamConnection connection)
    {
        connection.IdleSince = _settings.Time.GetTimestamp();
        var kept = false;
        if (IsFresh(connection))
        {
            lock (_lock)
            {
                if (!_disposed && _idleCount < _idle.Length)
                {
                    _idle[_idleCount++] = connection;
                    kept = true;
                }
            }
        }

        if (!kept)
        {
            connection.Close();
        }

        _slots.Release();
    }

    /// <summary>Closes a connection that must not carry another request.</summary>
    public void Discard(UpstreamConnection connection, string reason)
    {
        Log.ConnectionClosed(_logger, Name, reason);
        connection.Close();
        _slots.Release();
    }

    private bool TryPopIdle(out UpstreamConnection connection)
    {
        lock (_lock)
        {
            if (_idleCount > 0)
            {
                connection = _idle[--_idleCount];
                _idle[_idleCount] = null!;
                return true;
            }
        }

        connection = null!;
        return false;
    }

    /// <summary>
    /// Back in the pool for less than <see cref="ProbeAfterIdle"/>: under load nearly every connection, and probing it
    /// (a poll system call) was 3.7 % of a hit's CPU. An upstream closes idle connections after its keep-alive timeout,
    /// seconds at least, so one closed this soon is rare; for a request that can be replayed the keep-alive retry on a
    /// new connection covers it, and a streamed request is always probed.
    /// </summary>
    private bool JustReturned(UpstreamConnection connection) =>
        connection.IdleSince != 0 && _settings.Time.GetElapsedTime(connection.IdleSince) < ProbeAfterIdle;

    /// <summary>How long a returned connection is trusted without a probe.</summary>
    internal static readonly TimeSpan ProbeAfterIdle = TimeSpan.FromSeconds(1);

    private bool IsFresh(UpstreamConnection connection)
    {
        var time = _settings.Time;
        return time.GetElapsedTime(connection.Created) < _settings.Lifetime
            && (connection.IdleSince == 0 || time.GetElapsedTime(connection.IdleSince) < _settings.IdleTimeout);
    }

    /// <summary>Closes idle connections past their idle timeout or lifetime, so an idle gateway holds no sockets.</summary>
    private void Scavenge()
    {
        List<UpstreamConnection>? expired = null;
        lock (_lock)
        {
            var kept = 0;
            for (var i = 0; i < _idleCount; i++)
            {
                var connection = _idle[i];
                if (IsFresh(connection))
                {
                    _idle[kept++] = connection;
                }
                else
                {
                    (expired ??= []).Add(connection);
                }
            }

            Array.Clear(_idle, kept, _idleCount - kept);
            _idleCount = kept;
        }

        if (expired is not null)
        {
            foreach (var connection in expired)
            {
                Log.ConnectionClosed(_logger, Name, "idle");
                connection.Close();
            }
        }
    }

    private async ValueTask<UpstreamConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(_settings.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            EndPoint endPoint = IPAddress.TryParse(_host, out var address) ? new IPEndPoint(address, _port) : new DnsEndPoint(_host, _port);
            await socket.ConnectAsync(endPoint, connectTimeout.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (_https)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                var options = new SslClientAuthenticationOptions
                {
                    TargetHost = ServerName,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                };
                _settings.Trust.Apply(options);
                await tls.AuthenticateAsClientAsync(options, connectTimeout.Token);
            }

            Interlocked.Increment(ref _opened);
            Log.ConnectionOpened(_logger, Name);
            return new UpstreamConnection(this, socket, stream, _settings.Time.GetTimestamp());
        }
        catch (Exception ex)
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }

            socket.Dispose();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw ex switch
            {
                OperationCanceledException => new HttpRequestException(HttpRequestError.ConnectionError, $"Connecting to {Name} timed out.", ex),
                AuthenticationException => new HttpRequestException(HttpRequestError.SecureConnectionError, $"TLS with {Name} failed.", ex),
                _ => new HttpRequestException(HttpRequestError.ConnectionError, $"Connecting to {Name} failed.", ex),
            };
        }
    }

    public void Dispose()
    {
        _scavenger.Dispose();
        UpstreamConnection[] idle;
        lock (_lock)
        {
            _disposed = true;
            idle = _idle[.._idleCount];
            Array.Clear(_idle);
            _idleCount = 0;
        }

        foreach (var connection in idle)
        {
            connection.Close();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Opened an upstream connection to {Origin}")]
        public static partial void ConnectionOpened(ILogger logger, string origin);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Debug, Message = "Closed an upstream connection to {Origin}: {Reason}")]
        public static partial void ConnectionClosed(ILogger logger, string origin, string reason);
    }
}
