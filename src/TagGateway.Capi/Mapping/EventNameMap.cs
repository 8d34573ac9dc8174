using System.Collections.Frozen;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Mapping;

/// <summary>
/// GA4 event name to what each platform calls it (conversion-apis.md §6): Meta and TikTok event names, LinkedIn
/// conversion rule URNs, Google Ads conversion action ids. Defaults merged with Capi:&lt;Destination&gt;:Events, built once and
/// frozen. An event a destination has no entry for is not sent there.
/// </summary>
internal sealed class EventNameMap
{
    internal static readonly IReadOnlyDictionary<string, string> MetaDefaults = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["page_view"] = "PageView",
        ["view_item"] = "ViewContent",
        ["add_to_cart"] = "AddToCart",
        ["begin_checkout"] = "InitiateCheckout",
        ["add_payment_info"] = "AddPaymentInfo",
        ["purchase"] = "Purchase",
        ["generate_lead"] = "Lead",
        ["sign_up"] = "CompleteRegistration",
        ["search"] = "Search",
        ["add_to_wishlist"] = "AddToWishlist",
        ["contact"] = "Contact",
        ["subscribe"] = "Subscribe",
        ["start_trial"] = "StartTrial",
    };

    internal static readonly IReadOnlyDictionary<string, string> TikTokDefaults = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["page_view"] = "Pageview",
        ["view_item"] = "ViewContent",
        ["add_to_cart"] = "AddToCart",
        ["begin_checkout"] = "InitiateCheckout",
        ["add_payment_info"] = "AddPaymentInfo",
        ["purchase"] = "CompletePayment",
        ["generate_lead"] = "SubmitForm",
        ["sign_up"] = "CompleteRegistration",
        ["search"] = "Search",
        ["add_to_wishlist"] = "AddToWishlist",
        ["contact"] = "Contact",
        ["subscribe"] = "Subscribe",
    };

    /// <summary>Google Analytics gets GA4 names as they are; only conversions are gap-filled by default.</summary>
    internal static readonly IReadOnlyDictionary<string, string> GoogleAnalyticsDefaults = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["purchase"] = "purchase",
        ["refund"] = "refund",
        ["generate_lead"] = "generate_lead",
        ["sign_up"] = "sign_up",
    };

    private readonly FrozenDictionary<string, string>[] _maps = new FrozenDictionary<string, string>[CapiDestinations.Count];

    public EventNameMap(CapiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maps[(int)CapiDestination.Meta] = Merge(MetaDefaults, options.Meta.Events);
        _maps[(int)CapiDestination.TikTok] = Merge(TikTokDefaults, options.TikTok.Events);
        _maps[(int)CapiDestination.LinkedIn] = Merge(options.LinkedIn.Conversions, options.LinkedIn.Events);
        _maps[(int)CapiDestination.GoogleAds] = Merge(options.GoogleAds.ConversionActions, options.GoogleAds.Events);
        _maps[(int)CapiDestination.GoogleAnalytics] = Merge(GoogleAnalyticsDefaults, options.GoogleAnalytics.Events);
    }

    /// <summary>The platform's name (or rule URN, or conversion action id) for a GA4 event, or null when it is not sent there.</summary>
    public string? For(CapiDestination destination, string ga4Name) =>
        _maps[(int)destination].TryGetValue(ga4Name, out var name) ? name : null;

    public bool IsMapped(CapiDestination destination, string ga4Name) => _maps[(int)destination].ContainsKey(ga4Name);

    /// <summary>The GA4 names a destination takes.</summary>
    public IEnumerable<string> Names(CapiDestination destination) => _maps[(int)destination].Keys;

    private static FrozenDictionary<string, string> Merge(IReadOnlyDictionary<string, string> defaults, Dictionary<string, string> overrides)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((var ga4, var name) in defaults)
        {
            if (!string.IsNullOrWhiteSpace(name))
            {
                merged[ga4] = name.Trim();
            }
        }

        foreach ((var ga4, var name) in overrides)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                merged.Remove(ga4);
            }
            else
            {
                merged[ga4] = name.Trim();
            }
        }

        return merged.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
