namespace TagGateway.Capi;

/// <summary>
/// A GA4 hit the gateway has just forwarded, as the CAPI module sees it: taken after the hit went upstream, so the
/// fan-out never delays it. The body is a copy the module owns.
/// </summary>
/// <param name="Query">The collect URL's query string, without '?'.</param>
/// <param name="Body">The POST body (batched events, one per line), empty for GET hits.</param>
/// <param name="ClientIp">The visitor's IP as the gateway resolved it (trusted edge or socket).</param>
/// <param name="UserAgent">The visitor's User-Agent.</param>
/// <param name="CountryRegion">ISO <c>CC-RR</c> or <c>CC</c>, or null when unknown.</param>
/// <param name="CookieHeader">The visitor's Cookie header as received (the module reads _fbp, _fbc, _ttp, li_fat_id, _gcl_aw …).</param>
/// <param name="GlobalPrivacyControl">Whether the browser sent <c>Sec-GPC: 1</c>.</param>
/// <param name="ReceivedAt">When the gateway received the hit.</param>
public sealed record MeasurementHit(
    string Query,
    ReadOnlyMemory<byte> Body,
    string? ClientIp,
    string? UserAgent,
    string? CountryRegion,
    string? CookieHeader,
    bool GlobalPrivacyControl,
    DateTimeOffset ReceivedAt);
