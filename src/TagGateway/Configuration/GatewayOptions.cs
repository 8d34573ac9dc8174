using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace TagGateway.Configuration;

/// <summary>Where requests under the measurement path are sent.</summary>
public enum GatewayMode
{
    /// <summary>Google Tag Gateway behaviour: everything goes to <c>https://&lt;tag id&gt;.fps.goog/&lt;path&gt;/…</c>, prefix kept.</summary>
    TagGateway,

    /// <summary>Scripts from the tag manager host, hits to the analytics host, prefix stripped (sites not enrolled in GTG).</summary>
    Direct,
}

/// <summary>Which client carries hits and pass-through requests to the upstream.</summary>
public enum ForwardingClient
{
    /// <summary>Our own HTTP/1.1 client on System.IO.Pipelines (the default): pooled keep-alive connections, the request head written as bytes.</summary>
    Pipelines,

    /// <summary>.NET's <c>SocketsHttpHandler</c> (HTTP/2 where the upstream offers it): the fallback.</summary>
    Http,
}

/// <summary>The <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The public listener (the CDN, load balancer or local web server talks to it).</summary>
    [Required]
    public string PublicUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Health, readiness and Prometheus metrics; never routed through the CDN.</summary>
    [Required]
    public string ManagementUrl { get; set; } = "http://127.0.0.1:9090";

    /// <summary>The first-party path the tag is served under, e.g. <c>/metrics</c>.</summary>
    [Required]
    public string MeasurementPath { get; set; } = "/metrics";

    /// <summary>The Google tag IDs this site serves (G-, GT-, GTM-, AW-, DC-). The first one routes requests that name none.</summary>
    public List<string> TagIds { get; set; } = [];

    /// <summary>
    /// The site's hosts (a host, or a domain with its subdomains): only these may name the cookie domain. Unset:
    /// only a host a trusted edge passes on; any other Host gets host-only cookies.
    /// </summary>
    public List<string> SiteHosts { get; set; } = [];

    public GatewayMode Mode { get; set; } = GatewayMode.TagGateway;

    [ValidateObjectMembers]
    public UpstreamOptions Upstreams { get; set; } = new();

    public ClientIdentityOptions ClientIdentity { get; set; } = new();

    [ValidateObjectMembers]
    public ScriptCacheOptions Scripts { get; set; } = new();

    [ValidateObjectMembers]
    public ForwardingOptions Forwarding { get; set; } = new();

    [ValidateObjectMembers]
    public DemoOptions Demo { get; set; } = new();

    /// <summary>The management listener's own pages (<c>Gateway:Management</c>).</summary>
    [ValidateObjectMembers]
    public ManagementOptions Management { get; set; } = new();

    /// <summary>Connection limits and timeouts of the listeners (<c>Gateway:Limits</c>).</summary>
    [ValidateObjectMembers]
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>
    /// After SIGTERM, how long <c>/readyz</c> answers 503 while both listeners keep serving, before they stop accepting
    /// and in-flight requests drain (within the host's shutdown timeout): a load balancer's health check needs a few
    /// probes to see it.
    /// </summary>
    public TimeSpan ShutdownDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where relative store paths (<c>Capi:Store:Path</c>, <c>Capi:Store:Redis:SpillPath</c>, <c>Consent:Log:Path</c>)
    /// resolve. Unset: <c>$STATE_DIRECTORY</c> under systemd (<c>StateDirectory=</c>), else the binary's folder; a relative
    /// value resolves against the binary's folder. Never the working directory.
    /// </summary>
    public string? DataPath { get; set; }
}

/// <summary>Every upstream origin is configuration, so tests and staging point them at loopback.</summary>
public sealed class UpstreamOptions
{
    /// <summary>Origin template in <see cref="GatewayMode.TagGateway"/> mode; <c>{tagId}</c> is the lower-case tag ID.</summary>
    [Required]
    public string TagGatewayOrigin { get; set; } = "https://{tagId}.fps.goog";

    /// <summary>The <c>Host</c> sent to the tag gateway origin; GTG never forwards the visitor's host.</summary>
    [Required]
    public string TagGatewayHost { get; set; } = "{tagId}.fps.goog";

    /// <summary>Scripts in <see cref="GatewayMode.Direct"/> mode.</summary>
    [Required]
    public string TagManager { get; set; } = "https://www.googletagmanager.com";

    /// <summary>GA4 hits (<c>/g/collect</c>) in <see cref="GatewayMode.Direct"/> mode.</summary>
    [Required]
    public string Analytics { get; set; } = "https://region1.google-analytics.com";

    /// <summary>Google Ads pings (<c>/ccm/</c>, <c>/pagead/</c>, <c>/rmkt/</c>) in <see cref="GatewayMode.Direct"/> mode.</summary>
    [Required]
    public string Ads { get; set; } = "https://www.google.com";
}

/// <summary>Which edge is believed about the visitor's IP, scheme and location.</summary>
public enum EdgeKind
{
    /// <summary>No edge: the socket address is the client; forwarding headers are ignored.</summary>
    Direct,

    /// <summary>A plain Cloudflare proxy: <c>CF-Connecting-IP</c>, <c>CF-IPCountry</c>, <c>CF-Region-Code</c>.</summary>
    Cloudflare,

    /// <summary>Our Cloudflare Worker: <c>X-TagGateway-Client-IP</c>, <c>-Country</c>, <c>-Region</c>, <c>-Proto</c>.</summary>
    CloudflareWorker,

    /// <summary>A GCP external Application Load Balancer: <c>X-Forwarded-For</c> (client, lb), <c>X-Gclb-Country</c>, <c>X-Gclb-Region</c>.</summary>
    GoogleLoadBalancer,

    /// <summary>A local reverse proxy (nginx, Caddy): <c>X-Forwarded-For</c> walked from the right, <c>X-Forwarded-CountryRegion</c>.</summary>
    ReverseProxy,
}

public sealed class ClientIdentityOptions
{
    public EdgeKind Edge { get; set; } = EdgeKind.Direct;

    /// <summary>
    /// Peers (CIDR) whose forwarding headers may be believed; anyone else's are ignored. Unset means loopback only
    /// (a default list would be merged with a configured one by index, so the default is applied after binding).
    /// </summary>
    public List<string>? TrustedProxies { get; set; }

    /// <summary>When set, edge headers are believed only with a matching <c>X-TagGateway-Secret</c> header.</summary>
    public string? EdgeSecret { get; set; }

    /// <summary>Send the visitor IP to Google as <c>X-Forwarded-For</c> (Cloudflare's <c>hideOriginalIp</c> inverted).</summary>
    public bool ForwardClientIp { get; set; } = true;
}

public sealed class ScriptCacheOptions
{
    /// <summary>Distinct script variants kept in memory; the least recently used goes first.</summary>
    [Range(1, 100_000)]
    public int MaxEntries { get; set; } = 512;

    /// <summary>Memory for compressed bodies (Brotli and gzip of each variant); the least recently used goes first.</summary>
    [Range(1024 * 1024, 4L * 1024 * 1024 * 1024)]
    public long MaxCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Freshness when the upstream gives none.</summary>
    public TimeSpan DefaultMaxAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Cap on the upstream's max-age, so a long header cannot pin an old container version.</summary>
    public TimeSpan MaxMaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long after expiry a stale body is served while a background refresh runs.</summary>
    public TimeSpan StaleWhileRevalidate { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long after expiry the last good body is served when the upstream fails (bounded).</summary>
    public TimeSpan StaleIfError { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Largest script body accepted from the upstream.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Time allowed for one upstream script fetch.</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Upstream fetches per second for script keys the cache holds nothing for (a token bucket); beyond it such a
    /// load is a 503 with Retry-After. Cached keys, stale ones included, never count.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxMissesPerSecond { get; set; } = 10;

    /// <summary>How many such fetches may run at once after a quiet spell (a cold start: every region, every loader).</summary>
    [Range(1, 100_000)]
    public int MissBurst { get; set; } = 100;
}

public sealed class ForwardingOptions
{
    /// <summary>Largest measurement request body (a batched <c>/g/collect</c> POST).</summary>
    [Range(0, 16 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time allowed from sending the hit to the upstream's response headers.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request header block (Kestrel answers 431 beyond it).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxRequestHeadersBytes { get; set; } = 32 * 1024;

    [Range(256, 64 * 1024)]
    public int MaxRequestLineBytes { get; set; } = 8 * 1024;

    /// <summary>The client toward the upstream (bench/README.md has the measurement that chose the default; its TLS path is tested in UpstreamTlsTests).</summary>
    public ForwardingClient Client { get; set; } = ForwardingClient.Pipelines;

    /// <summary>Most connections open at once to one upstream origin; hits beyond it wait (within the response timeout).</summary>
    [Range(1, 100_000)]
    public int MaxConnectionsPerOrigin { get; set; } = 1024;

    /// <summary>An idle pooled connection is closed after this long.</summary>
    public TimeSpan ConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A connection is not reused after this long, so DNS changes on Google's side are picked up.</summary>
    public TimeSpan ConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);
}

public sealed class ManagementOptions
{
    /// <summary>Serves the live view, setup check and signal-health report on <c>/ui/</c> of the management listener.</summary>
    public bool UiEnabled { get; set; } = true;

    /// <summary>How many of the last requests the live view keeps (a preallocated ring of fixed-size records).</summary>
    [Range(16, 10_000)]
    public int LiveViewCapacity { get; set; } = 500;

    /// <summary>
    /// A secret that authorises <c>TagGateway doctor</c>'s diagnostic request under the measurement path (the edge secret
    /// does too). Unset, and without an edge secret, the diagnostic does not exist. Never logged.
    /// </summary>
    public string? DiagnosticToken { get; set; }
}

public sealed class DemoOptions
{
    /// <summary>The tags the demo serves when none is configured.</summary>
    internal static readonly string[] TagIds = ["G-DEMO1234", "GTM-DEMO567"];

    /// <summary>
    /// Runs a built-in stand-in for Google on loopback and a demo page on <c>/</c>; no account or network needed.
    /// Unset means on exactly when no tag ID is configured, so configuring a tag is all it takes to go live.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>Where the stand-in upstream listens (loopback only).</summary>
    [Required]
    public string UpstreamUrl { get; set; } = "http://127.0.0.1:8079";
}
