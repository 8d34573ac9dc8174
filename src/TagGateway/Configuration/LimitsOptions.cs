using System.ComponentModel.DataAnnotations;

namespace TagGateway.Configuration;

/// <summary>
/// The <c>Gateway:Limits</c> section: how many connections each listener holds and how long a slow or idle one may
/// keep a slot. Defaults suit a small VM (1 vCPU, 512 MiB): an idle keep-alive connection costs about 10 KB, so the
/// public ceiling is about 20 MB of them, far below the open-file limit.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>Open connections on the public listener; past it a new connection is closed at once, unread.</summary>
    [Range(1, 1_000_000)]
    public int MaxConnections { get; set; } = 2048;

    /// <summary>Open connections on the management listener, counted apart so probes and scrapes get through a full public listener.</summary>
    [Range(1, 10_000)]
    public int MaxManagementConnections { get; set; } = 32;

    /// <summary>Connections upgraded to another protocol (WebSocket): the gateway never upgrades one.</summary>
    [Range(0, 100_000)]
    public int MaxUpgradedConnections { get; set; }

    /// <summary>
    /// How long an idle keep-alive connection is kept. Unset: longer than the edge's own idle timeout, so the edge
    /// closes first and never sends a request on a connection the gateway is closing (<see cref="KeepAliveFor"/>).
    /// </summary>
    public TimeSpan? KeepAliveTimeout { get; set; }

    /// <summary>Time allowed to receive a request's headers, however slowly they trickle in (slowloris).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Slowest request body accepted after the grace period; 0 turns the check off.</summary>
    [Range(0, 1_000_000)]
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may be slower than <see cref="MinRequestBodyBytesPerSecond"/> before the request is dropped.</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The keep-alive timeout when none is configured. An edge that reuses a connection the origin has just closed
    /// answers the visitor with an error (Cloudflare 520, a GCP load balancer 502), so the gateway outlasts it:
    /// Cloudflare keeps idle origin connections 900 s ("Proxy Idle Timeout", developers.cloudflare.com/fundamentals/
    /// reference/connection-limits); a GCP external Application Load Balancer 600 s, fixed ("backend keepalive timeout",
    /// cloud.google.com/load-balancing/docs/https/request-distribution). nginx (keepalive_timeout 60 s) and Caddy
    /// (2 min) close before Kestrel's 130 s default, which also serves a gateway with no edge.
    /// </summary>
    public static TimeSpan KeepAliveFor(EdgeKind edge) => edge switch
    {
        EdgeKind.Cloudflare or EdgeKind.CloudflareWorker => TimeSpan.FromSeconds(910),
        EdgeKind.GoogleLoadBalancer => TimeSpan.FromSeconds(620),
        _ => TimeSpan.FromSeconds(130),
    };
}
