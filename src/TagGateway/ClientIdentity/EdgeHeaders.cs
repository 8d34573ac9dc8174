namespace TagGateway.ClientIdentity;

/// <summary>The header names each supported edge sets. One table, so the README and the code cannot drift.</summary>
internal static class EdgeHeaders
{
    public const string Secret = "X-TagGateway-Secret";

    // Set by our Cloudflare Worker (Cloudflare rewrites CF-* headers on Worker subrequests, so the Worker uses its own).
    public const string WorkerClientIp = "X-TagGateway-Client-IP";
    public const string WorkerCountry = "X-TagGateway-Country";
    public const string WorkerRegion = "X-TagGateway-Region";
    public const string WorkerProto = "X-TagGateway-Proto";
    public const string WorkerHost = "X-TagGateway-Host";

    // A plain Cloudflare proxy (region needs the "Add visitor location headers" managed transform).
    public const string CloudflareConnectingIp = "CF-Connecting-IP";
    public const string CloudflareCountry = "CF-IPCountry";
    public const string CloudflareRegion = "CF-Region-Code";

    // GCP external Application Load Balancer custom request headers ({client_region}, {client_region_subdivision}).
    public const string GclbCountry = "X-Gclb-Country";
    public const string GclbRegion = "X-Gclb-Region";

    public const string ForwardedFor = "X-Forwarded-For";
    public const string ForwardedProto = "X-Forwarded-Proto";
    public const string ForwardedHost = "X-Forwarded-Host";

    // What Google Tag Gateway sends to fps.goog, and what a trusted local reverse proxy may pass on.
    public const string ForwardedCountryRegion = "X-Forwarded-CountryRegion";
    public const string ForwardedCountry = "X-Forwarded-Country";
    public const string ForwardedRegion = "X-Forwarded-Region";
}
