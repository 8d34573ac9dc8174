using TagGateway.Configuration;
using TagGateway.Logging;

namespace TagGateway.ClientIdentity;

/// <summary>Whether the visitors' location reaches the gateway, as <c>/readyz</c> and the metrics report it.</summary>
internal enum GeolocationState
{
    /// <summary>No request under the measurement path yet.</summary>
    Unknown,

    /// <summary>Requests arrive with a country.</summary>
    Present,

    /// <summary>Requests keep arriving without one: every visitor gets the strictest consent default.</summary>
    Missing,
}

/// <summary>
/// Counts requests with and without visitor geolocation. Without it the consent layer treats every visitor as in a
/// strict region, which is safe but costs every non-strict site its measurement, so a missing location is said loudly:
/// a start-up warning for an edge that cannot supply one, a rate-limited warning when requests keep arriving without
/// one, the state on <c>/readyz</c> (degraded, never not-ready) and in the metrics. <see cref="Observe"/> runs on every
/// request: a few interlocked operations, no lock, no allocation.
/// </summary>
internal sealed partial class GeolocationHealth
{
    /// <summary>Consecutive requests without a location, after some with one, that make the state <see cref="GeolocationState.Missing"/>.</summary>
    /// <remarks>Behind an edge that does send a location a few still lack one (Tor, anonymous proxies: <c>T1</c>, <c>XX</c>).</remarks>
    internal const int MissingStreak = 50;

    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(15);

    private readonly EdgeKind _edge;
    private readonly WarningGate _warnings;
    private readonly ILogger<GeolocationHealth> _logger;
    private long _with;
    private long _withoutFromEdge;
    private long _withoutFromSocket;
    private long _streak;

    public GeolocationHealth(GatewayOptions options, TimeProvider time, ILogger<GeolocationHealth> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _edge = options.ClientIdentity.Edge;
        _warnings = new WarningGate(time, WarningInterval);
        _logger = logger;
    }

    /// <summary>Whether this edge kind can ever tell the gateway where a visitor is.</summary>
    public static bool EdgeCanSupply(EdgeKind edge) => edge != EdgeKind.Direct;

    /// <summary>Requests that carried a country.</summary>
    public long WithGeolocation => Volatile.Read(ref _with);

    /// <summary>Requests from a trusted edge that sent no location.</summary>
    public long WithoutFromEdge => Volatile.Read(ref _withoutFromEdge);

    /// <summary>Requests whose edge headers were not believed (no edge configured, or an untrusted peer).</summary>
    public long WithoutFromSocket => Volatile.Read(ref _withoutFromSocket);

    public GeolocationState State
    {
        get
        {
            var streak = Volatile.Read(ref _streak);
            if (IsMissing(streak))
            {
                return GeolocationState.Missing;
            }

            return WithGeolocation > 0 || streak > 0 ? GeolocationState.Present : GeolocationState.Unknown;
        }
    }

    /// <summary>Counts one request under the measurement path by whether its visitor's location is known.</summary>
    public void Observe(in ClientInfo client)
    {
        if (client.Country is not null || client.CountryRegion is not null)
        {
            Interlocked.Increment(ref _with);

            // Read before writing: steady traffic with a location leaves the shared line alone.
            if (Volatile.Read(ref _streak) != 0)
            {
                Volatile.Write(ref _streak, 0);
            }

            return;
        }

        Interlocked.Increment(ref client.FromTrustedEdge ? ref _withoutFromEdge : ref _withoutFromSocket);
        if (IsMissing(Interlocked.Increment(ref _streak)) && _warnings.TryEnter())
        {
            Warn(client.FromTrustedEdge);
        }
    }

    /// <summary>Missing: a run of requests without a location, or every request so far.</summary>
    private bool IsMissing(long streak) => streak >= MissingStreak || (streak > 0 && WithGeolocation == 0);

    private void Warn(bool fromTrustedEdge)
    {
        var without = WithoutFromEdge + WithoutFromSocket;
        var total = without + WithGeolocation;
        var hint = (_edge, fromTrustedEdge) switch
        {
            (EdgeKind.Direct, _) => "Gateway:ClientIdentity:Edge is Direct, which supplies no location: set it to the edge in front of the gateway (edge-config/ shows each).",
            (_, true) => $"the {_edge} edge is trusted but sends no location headers: see edge-config/ for how this edge passes them.",
            _ => $"the {_edge} edge's headers are not believed: the peer is not in Gateway:ClientIdentity:TrustedProxies, or Gateway:ClientIdentity:EdgeSecret does not match.",
        };
        Log.Missing(_logger, without, total, hint);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1500, Level = LogLevel.Warning, Message = "Requests keep arriving without visitor geolocation ({Without} of {Total} so far), so every such visitor gets the strictest consent default; {Hint}")]
        public static partial void Missing(ILogger logger, long without, long total, string hint);
    }
}
