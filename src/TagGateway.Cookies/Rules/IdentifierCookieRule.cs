using TagGateway.Consent.Policy;

namespace TagGateway.Cookies.Rules;

/// <summary>
/// One identifier cookie the gateway may re-issue: which destination's consent governs it, its value shape, and
/// how long the server-set copy lives (the platform's own lifetime, capped at Chrome's 400 days).
/// </summary>
/// <param name="Name">The cookie name, or a prefix when <paramref name="IsPrefix"/> (<c>_ga_</c> covers every container).</param>
/// <param name="KeepServerCopy">Keep an HttpOnly copy and restore the browser-visible cookie from it after a script-storage wipe.</param>
public sealed record IdentifierCookieRule(string Name, bool IsPrefix, ConsentDestination Destination, CookieFormat Format, TimeSpan MaxAge, bool KeepServerCopy)
{
    /// <summary>RFC 6265bis: user agents cap cookie lifetimes at 400 days.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(400);

    /// <summary>
    /// The defaults, one row per cookie, as a privacy reviewer would read them. Lifetimes: _ga 2 years, _gcl_* and
    /// _fbp/_fbc 90 days, _ttp 13 months, ttclid 30 days, li_fat_id 30 days; all capped at 400 days.
    /// </summary>
    public static readonly IdentifierCookieRule[] Defaults =
    [
        new("_ga", false, ConsentDestination.GoogleAnalytics, CookieFormat.GoogleAnalyticsClient, MaxLifetime, KeepServerCopy: true),
        new("_ga_", true, ConsentDestination.GoogleAnalytics, CookieFormat.GoogleAnalyticsSession, MaxLifetime, KeepServerCopy: false),
        new("_gcl_aw", false, ConsentDestination.GoogleAds, CookieFormat.GoogleClick, TimeSpan.FromDays(90), KeepServerCopy: false),
        new("_gcl_dc", false, ConsentDestination.GoogleAds, CookieFormat.GoogleClick, TimeSpan.FromDays(90), KeepServerCopy: false),
        new("_gcl_gb", false, ConsentDestination.GoogleAds, CookieFormat.GoogleClick, TimeSpan.FromDays(90), KeepServerCopy: false),
        new("_gcl_au", false, ConsentDestination.GoogleAds, CookieFormat.GoogleAdsUser, TimeSpan.FromDays(90), KeepServerCopy: false),
        new("_fbp", false, ConsentDestination.Meta, CookieFormat.MetaBrowser, TimeSpan.FromDays(90), KeepServerCopy: true),
        new("_fbc", false, ConsentDestination.Meta, CookieFormat.MetaClick, TimeSpan.FromDays(90), KeepServerCopy: false),
        new("_ttp", false, ConsentDestination.TikTok, CookieFormat.Opaque, TimeSpan.FromDays(395), KeepServerCopy: false),
        new("ttclid", false, ConsentDestination.TikTok, CookieFormat.Token, TimeSpan.FromDays(30), KeepServerCopy: false),
        new("li_fat_id", false, ConsentDestination.LinkedIn, CookieFormat.Token, TimeSpan.FromDays(30), KeepServerCopy: false),
    ];
}
