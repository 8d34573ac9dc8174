namespace TagGateway.Consent.Signals;

/// <summary>What the hit said about one consent type: the gcd default and update states and the gcs state.</summary>
public readonly struct ConsentTypeSignal : IEquatable<ConsentTypeSignal>
{
    internal ConsentTypeSignal(ConsentState gcdDefault, ConsentState gcdUpdate, ConsentState gcs, bool gcdUnreadable, bool gcsUnreadable, char unknownGcdLetter = '\0')
    {
        UnknownGcdLetter = unknownGcdLetter;
        Default = gcdDefault;
        Update = gcdUpdate;
        Gcs = gcs;
        GcdUnreadable = gcdUnreadable;
        GcsUnreadable = gcsUnreadable;
    }

    /// <summary>The gcd default state (set by <c>gtag('consent','default',…)</c>).</summary>
    public ConsentState Default { get; }

    /// <summary>The gcd update state (set by <c>gtag('consent','update',…)</c>, usually the banner).</summary>
    public ConsentState Update { get; }

    /// <summary>The gcs state; only ad_storage and analytics_storage travel in gcs.</summary>
    public ConsentState Gcs { get; }

    /// <summary>gcd was present but malformed as a whole (wrong structure): no letter of it can be trusted.</summary>
    public bool GcdUnreadable { get; }

    /// <summary>
    /// The gcd letter for this type when it is outside the nine documented ones (upper case included), else '\0'.
    /// Such a letter reads as "not set": <see cref="Default"/> and <see cref="Update"/> are Unknown.
    /// </summary>
    public char UnknownGcdLetter { get; }

    /// <summary>gcs was present but malformed (only meaningful for ad_storage and analytics_storage).</summary>
    public bool GcsUnreadable { get; }

    /// <summary>The state the hit itself settles on for this type (update, then default), per the Vallejo algorithm.</summary>
    public ConsentState GcdEffective => Update != ConsentState.Unknown ? Update : Default;

    public bool Equals(ConsentTypeSignal other) =>
        Default == other.Default && Update == other.Update && Gcs == other.Gcs
        && GcdUnreadable == other.GcdUnreadable && GcsUnreadable == other.GcsUnreadable && UnknownGcdLetter == other.UnknownGcdLetter;

    public override bool Equals(object? obj) => obj is ConsentTypeSignal other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Default, Update, Gcs, GcdUnreadable, GcsUnreadable, UnknownGcdLetter);

    public static bool operator ==(ConsentTypeSignal left, ConsentTypeSignal right) => left.Equals(right);

    public static bool operator !=(ConsentTypeSignal left, ConsentTypeSignal right) => !left.Equals(right);
}
