using Microsoft.AspNetCore.Server.Kestrel.Core;
using TagGateway.Configuration;
using TagGateway.Logging;

namespace TagGateway.Hosting;

/// <summary>
/// A ceiling on one listener's open connections. Kestrel's own <c>MaxConcurrentConnections</c> gives every endpoint the
/// same number (it wraps each bound endpoint in its own ConnectionLimitMiddleware, KestrelServerImpl.EnforceConnectionLimit),
/// so the public and management listeners get separate limiters here: a flood of idle connections on the public port
/// never locks out the health checks and the scrape on the management port.
/// </summary>
internal sealed partial class ConnectionLimiter
{
    private readonly long _max;
    private readonly WarningGate _warnings;
    private readonly ILogger _logger;
    private long _open;
    private long _rejected;

    public ConnectionLimiter(ListenerKind kind, long max, WarningGate warnings, ILogger logger)
    {
        Kind = kind;
        _max = max;
        _warnings = warnings;
        _logger = logger;
    }

    public ListenerKind Kind { get; }

    public long Open => Volatile.Read(ref _open);

    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>Takes a slot, or counts the connection as rejected when the listener is full.</summary>
    public bool TryAcquire()
    {
        if (Interlocked.Increment(ref _open) <= _max)
        {
            return true;
        }

        Interlocked.Decrement(ref _open);
        Interlocked.Increment(ref _rejected);
        if (_warnings.TryEnter())
        {
            Log.Full(_logger, Kind, _max, Rejected);
        }

        return false;
    }

    public void Release() => Interlocked.Decrement(ref _open);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1400, Level = LogLevel.Warning, Message = "The {Listener} listener is at its limit of {Max} open connections: new connections are closed unanswered ({Rejected} so far). Raise Gateway:Limits:MaxConnections if this is real traffic.")]
        public static partial void Full(ILogger logger, ListenerKind listener, long max, long rejected);
    }
}

/// <summary>Kestrel's limits and timeouts from <see cref="LimitsOptions"/>.</summary>
internal static class KestrelLimits
{
    /// <summary>Unsent response bytes a connection holds before a write waits (Kestrel's default is 64 KB).</summary>
    public const long ResponseBufferBytes = 256 * 1024;

    public static void Apply(KestrelServerOptions kestrel, GatewayOptions options)
    {
        var limits = options.Limits;
        var kestrelLimits = kestrel.Limits;

        // Per listener instead (ConnectionLimiter): Kestrel's would cap management and public alike.
        kestrelLimits.MaxConcurrentConnections = null;
        kestrelLimits.MaxConcurrentUpgradedConnections = limits.MaxUpgradedConnections;
        kestrelLimits.KeepAliveTimeout = limits.KeepAliveTimeout ?? LimitsOptions.KeepAliveFor(options.ClientIdentity.Edge);
        kestrelLimits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrelLimits.MinRequestBodyDataRate = limits.MinRequestBodyBytesPerSecond > 0
            ? new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod)
            : null;

        // A cached script's body (~100-150 KB compressed) fits below the pause threshold, so its flush completes at once
        // instead of waiting for the socket to drain and resuming on another thread; streamed relays still meet
        // back-pressure, at this size instead of 64 KB. (The socket transport's MaxWriteBufferSize is set alike.)
        kestrelLimits.MaxResponseBufferSize = ResponseBufferBytes;

        // HTTP/2 stream limits do not apply: every listener speaks HTTP/1.1 only (Listeners), as edges do to an origin.
    }
}
