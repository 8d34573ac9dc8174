using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Policy;

/// <summary>Where an effective consent state came from, strongest first in the order they are tried.</summary>
public enum ConsentSource
{
    /// <summary>No signal: the region default.</summary>
    RegionDefault = 0,

    /// <summary>The gcs string.</summary>
    Gcs = 1,

    /// <summary>The gcd default state.</summary>
    GcdDefault = 2,

    /// <summary>The gcd update state.</summary>
    GcdUpdate = 3,

    /// <summary>gcd or gcs was present but malformed as a whole: denied (fail closed).</summary>
    Unreadable = 4,

    /// <summary>Sec-GPC: 1 forced the type to denied.</summary>
    GlobalPrivacyControl = 5,

    /// <summary>npa=1 forced ad_personalization to denied.</summary>
    NonPersonalizedAds = 6,
}

/// <summary>Why a consent type ended up denied; what a denial may be used for depends on it (see <see cref="ConsentResolution.Denial"/>).</summary>
public enum ConsentDenial
{
    /// <summary>Not denied: the type is granted.</summary>
    None = 0,

    /// <summary>An update to denied (gcd update letter m, q or u): the visitor said no. The only denial that withdraws identifiers.</summary>
    Update = 1,

    /// <summary>
    /// Denied by the page's default (gcd default letter p), or by gcs, which carries the current state without saying whether
    /// a default or an update set it. The first ping of a page for a returning visitor looks like this before the consent
    /// platform's update arrives, so it is never read as a refusal.
    /// </summary>
    Default = 2,

    /// <summary>No signal for the type ("not set", or an undocumented gcd letter): the region default denied it.</summary>
    RegionDefault = 3,

    /// <summary>gcd or gcs was present but malformed: denied (fail closed), not a refusal.</summary>
    Unreadable = 4,

    /// <summary>Sec-GPC: 1 denied ad_user_data or ad_personalization.</summary>
    GlobalPrivacyControl = 5,

    /// <summary>npa=1 denied ad_personalization.</summary>
    NonPersonalizedAds = 6,
}

/// <summary>The effective state of one consent type and why.</summary>
public readonly record struct ConsentResolution(ConsentState State, ConsentSource Source)
{
    public bool IsGranted => State == ConsentState.Granted;

    /// <summary>Where a denial came from; None when granted.</summary>
    public ConsentDenial Denial => State == ConsentState.Granted ? ConsentDenial.None : Source switch
    {
        ConsentSource.GcdUpdate => ConsentDenial.Update,
        ConsentSource.GcdDefault or ConsentSource.Gcs => ConsentDenial.Default,
        ConsentSource.RegionDefault => ConsentDenial.RegionDefault,
        ConsentSource.GlobalPrivacyControl => ConsentDenial.GlobalPrivacyControl,
        ConsentSource.NonPersonalizedAds => ConsentDenial.NonPersonalizedAds,
        _ => ConsentDenial.Unreadable,
    };
}

/// <summary>The effective consent of one event: every type resolved to Granted or Denied, with its source.</summary>
public readonly struct ResolvedConsent : IEquatable<ResolvedConsent>
{
    // Four bits per type: bit 0 granted, bits 1-3 the ConsentSource.
    private readonly ushort _bits;

    private ResolvedConsent(ushort bits) => _bits = bits;

    /// <summary>The types that are granted.</summary>
    public ConsentTypes Granted
    {
        get
        {
            var granted = ConsentTypes.None;
            for (var type = 0; type < 4; type++)
            {
                if (((_bits >> (4 * type)) & 1) != 0)
                {
                    granted |= (ConsentTypes)(1 << type);
                }
            }

            return granted;
        }
    }

    /// <summary>
    /// The types the visitor explicitly refused on this event: an update to denied (<see cref="ConsentDenial.Update"/>).
    /// A default, a region default, an unreadable signal or GPC never counts.
    /// </summary>
    public ConsentTypes Withdrawn
    {
        get
        {
            var withdrawn = ConsentTypes.None;
            for (var type = 0; type < 4; type++)
            {
                // Granted bit clear and source GcdUpdate.
                if (((_bits >> (4 * type)) & 0xF) == ((int)ConsentSource.GcdUpdate << 1))
                {
                    withdrawn |= (ConsentTypes)(1 << type);
                }
            }

            return withdrawn;
        }
    }

    public ConsentResolution Get(ConsentType type)
    {
        var bits = (_bits >> (4 * ((int)type & 3))) & 0xF;
        return new ConsentResolution((bits & 1) != 0 ? ConsentState.Granted : ConsentState.Denied, (ConsentSource)(bits >> 1));
    }

    /// <summary>
    /// Resolves each type: gcd update, gcd default, (unreadable gcd: denied), gcs, (unreadable gcs: denied), region default;
    /// then GPC denies ad_user_data and ad_personalization, and npa=1 denies ad_personalization.
    /// </summary>
    internal static ResolvedConsent Resolve(in ConsentSignals signals, ConsentTypes regionGranted)
    {
        var bits = 0;
        var gpc = signals.GlobalPrivacyControl;
        var npa = signals.NonPersonalizedAds == true;
        for (var index = 0; index < 4; index++)
        {
            var type = (ConsentType)index;
            var signal = signals.Get(type);
            (var state, var source) =
                signal.Update != ConsentState.Unknown ? (signal.Update, ConsentSource.GcdUpdate)
                : signal.Default != ConsentState.Unknown ? (signal.Default, ConsentSource.GcdDefault)
                : signal.GcdUnreadable ? (ConsentState.Denied, ConsentSource.Unreadable)
                : signal.Gcs != ConsentState.Unknown ? (signal.Gcs, ConsentSource.Gcs)
                : signal.GcsUnreadable ? (ConsentState.Denied, ConsentSource.Unreadable)
                : ((regionGranted & (ConsentTypes)(1 << index)) != 0 ? ConsentState.Granted : ConsentState.Denied, ConsentSource.RegionDefault);

            // Restrictions only ever tighten; the source changes only when they changed the outcome.
            if (state == ConsentState.Granted && gpc && type is ConsentType.AdUserData or ConsentType.AdPersonalization)
            {
                (state, source) = (ConsentState.Denied, ConsentSource.GlobalPrivacyControl);
            }

            if (state == ConsentState.Granted && npa && type == ConsentType.AdPersonalization)
            {
                (state, source) = (ConsentState.Denied, ConsentSource.NonPersonalizedAds);
            }

            bits |= ((state == ConsentState.Granted ? 1 : 0) | ((int)source << 1)) << (4 * index);
        }

        return new ResolvedConsent((ushort)bits);
    }

    public bool Equals(ResolvedConsent other) => _bits == other._bits;

    public override bool Equals(object? obj) => obj is ResolvedConsent other && Equals(other);

    public override int GetHashCode() => _bits;

    public static bool operator ==(ResolvedConsent left, ResolvedConsent right) => left.Equals(right);

    public static bool operator !=(ResolvedConsent left, ResolvedConsent right) => !left.Equals(right);
}
