using TagGateway.Consent.Policy;

namespace TagGateway.Capi.Model;

/// <summary>The four conversion APIs; values index per-destination arrays and bit masks.</summary>
internal enum CapiDestination
{
    Meta = 0,
    TikTok = 1,
    LinkedIn = 2,
    GoogleAds = 3,

    /// <summary>GA4 Measurement Protocol: backend events the browser never reported (gap-fill, issue #13).</summary>
    GoogleAnalytics = 4,
}

internal static class CapiDestinations
{
    public const int Count = 5;

    public static readonly CapiDestination[] All = [CapiDestination.Meta, CapiDestination.TikTok, CapiDestination.LinkedIn, CapiDestination.GoogleAds, CapiDestination.GoogleAnalytics];

    public static ConsentDestination ToConsent(this CapiDestination destination) => destination switch
    {
        CapiDestination.Meta => ConsentDestination.Meta,
        CapiDestination.TikTok => ConsentDestination.TikTok,
        CapiDestination.LinkedIn => ConsentDestination.LinkedIn,
        CapiDestination.GoogleAnalytics => ConsentDestination.GoogleAnalytics,
        _ => ConsentDestination.GoogleAds,
    };

    /// <summary>Stable lower-case names for metrics, logs and URLs.</summary>
    public static string Name(this CapiDestination destination) => destination switch
    {
        CapiDestination.Meta => "meta",
        CapiDestination.TikTok => "tiktok",
        CapiDestination.LinkedIn => "linkedin",
        CapiDestination.GoogleAnalytics => "google_analytics",
        _ => "google_ads",
    };

    public static bool TryParse(ReadOnlySpan<char> name, out CapiDestination destination)
    {
        foreach (var candidate in All)
        {
            if (name.Equals(candidate.Name(), StringComparison.OrdinalIgnoreCase) || name.Equals(candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                destination = candidate;
                return true;
            }
        }

        destination = default;
        return false;
    }

    public static int Bit(this CapiDestination destination) => 1 << (int)destination;
}

/// <summary>
/// What consent allowed for one destination, decided once when the event was accepted and stored with it, so a
/// delivery after a restart obeys the same decision.
/// </summary>
[Flags]
internal enum DestinationConsent
{
    None = 0,
    Send = 1,
    Identifiers = 2,
    UserData = 4,
    Restricted = 8,
}

internal static class ConsentMask
{
    public static DestinationConsent Get(int mask, CapiDestination destination) => (DestinationConsent)((mask >> (4 * (int)destination)) & 0xF);

    public static int Set(int mask, CapiDestination destination, DestinationConsent value) =>
        (mask & ~(0xF << (4 * (int)destination))) | ((int)value << (4 * (int)destination));

    public static DestinationConsent From(in DestinationDecision decision)
    {
        var value = DestinationConsent.None;
        value |= decision.MaySend ? DestinationConsent.Send : 0;
        value |= decision.MayUseIdentifiers ? DestinationConsent.Identifiers : 0;
        value |= decision.MayAttachUserData ? DestinationConsent.UserData : 0;
        value |= decision.IsRestricted ? DestinationConsent.Restricted : 0;
        return value;
    }
}
