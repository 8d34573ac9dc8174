namespace TagGateway.Hits;

/// <summary>
/// What protocol a hit speaks, decided from its parameters rather than its path: Google's tag sends the same GA4 hit
/// on <c>/g/collect</c>, <c>/ag/g/c</c>, <c>/ga/g/c</c> and whatever comes next (docs/protocols.md §1).
/// </summary>
internal enum HitKind
{
    /// <summary>Anything else under the measurement path: forwarded unchanged, never decoded.</summary>
    Other,

    /// <summary>A GA4 measurement hit: <c>v=2</c> with a <c>tid</c> of a GA4 measurement ID (<c>G-…</c>).</summary>
    GoogleAnalytics,

    /// <summary>A Google Ads / Floodlight ping: a <c>tid</c> of <c>AW-…</c>/<c>DC-…</c>, or an Ads path (<c>/ccm/</c>, <c>/pagead/</c>, …).</summary>
    GoogleAds,
}
