namespace TagGateway.ClientIdentity;

/// <summary>Who the visitor is, as far as the gateway may believe: resolved once per request.</summary>
/// <param name="IpText">The visitor's IP in text form, as forwarded upstream (<c>X-Forwarded-For</c>).</param>
/// <param name="CountryRegion">ISO 3166-2 style <c>CC-RR</c>, just <c>CC</c> when the subdivision is unknown, or null.</param>
/// <param name="Country">ISO 3166-1 alpha-2 country, or null when unknown.</param>
/// <param name="IsHttps">Whether the visitor reached the site over HTTPS (from a trusted edge, else the socket).</param>
/// <param name="FromTrustedEdge">Whether the edge's headers were believed.</param>
/// <param name="SiteHost">
/// The site's host the visitor asked for (port allowed), when it may name the cookie domain: a configured site host,
/// or one a trusted edge passed on (its forwarded host, else Host). Null otherwise: cookies are then host-only.
/// </param>
internal readonly record struct ClientInfo(string? IpText, string? CountryRegion, string? Country, bool IsHttps, bool FromTrustedEdge, string? SiteHost = null);
