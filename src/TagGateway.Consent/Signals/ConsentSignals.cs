namespace TagGateway.Consent.Signals;

/// <summary>
/// The consent signals of one event, decoded from the hit: gcs, gcd (default and update per type), npa, dma, dma_cps,
/// gcu/gcut, TCF gdpr/gdpr_consent, GPP gpp/gpp_sid and the Sec-GPC header. Three words, no references: decoding
/// never allocates and never throws; anything malformed decodes as Unknown.
/// </summary>
/// <remarks>
/// Decode the URL once with <see cref="FromQuery(ReadOnlySpan{char}, bool)"/>, then derive each batched event with
/// <see cref="WithOverrides(ReadOnlySpan{byte})"/>: a parameter on the body line replaces the URL's for that event.
/// Within one query the last occurrence of a parameter wins.
/// </remarks>
public readonly struct ConsentSignals : IEquatable<ConsentSignals>
{
    private readonly uint _types;
    private readonly SignalFlags _flags;

    // One byte per type (gcd order): the gcd letter that was outside the documented nine, 0 when none.
    private readonly uint _unknownLetters;

    private ConsentSignals(uint types, SignalFlags flags, uint unknownLetters)
    {
        _types = types;
        _flags = flags;
        _unknownLetters = unknownLetters;
    }

    /// <summary>Decodes the consent parameters of a raw query string (leading '?' allowed; values may be percent-encoded).</summary>
    public static ConsentSignals FromQuery(ReadOnlySpan<char> query, bool globalPrivacyControl)
    {
        uint types = 0;
        uint unknownLetters = 0;
        var flags = globalPrivacyControl ? SignalFlags.Gpc : SignalFlags.None;
        SignalParser.Apply(ref types, ref flags, ref unknownLetters, query);
        return new ConsentSignals(types, flags, unknownLetters);
    }

    /// <summary>Decodes the consent parameters of a raw UTF-8 query string.</summary>
    public static ConsentSignals FromQuery(ReadOnlySpan<byte> query, bool globalPrivacyControl)
    {
        uint types = 0;
        uint unknownLetters = 0;
        var flags = globalPrivacyControl ? SignalFlags.Gpc : SignalFlags.None;
        SignalParser.Apply(ref types, ref flags, ref unknownLetters, query);
        return new ConsentSignals(types, flags, unknownLetters);
    }

    /// <summary>The signals of one batched event: this (the URL's) with the body line's parameters applied over it.</summary>
    public ConsentSignals WithOverrides(ReadOnlySpan<char> bodyLine)
    {
        var types = _types;
        var unknownLetters = _unknownLetters;
        var flags = _flags;
        SignalParser.Apply(ref types, ref flags, ref unknownLetters, bodyLine);
        return new ConsentSignals(types, flags, unknownLetters);
    }

    /// <summary>The signals of one batched event whose body line is UTF-8.</summary>
    public ConsentSignals WithOverrides(ReadOnlySpan<byte> bodyLine)
    {
        var types = _types;
        var unknownLetters = _unknownLetters;
        var flags = _flags;
        SignalParser.Apply(ref types, ref flags, ref unknownLetters, bodyLine);
        return new ConsentSignals(types, flags, unknownLetters);
    }

    /// <summary>True when a <c>Sec-GPC</c> header value means "do not sell or share" (exactly "1", blanks ignored).</summary>
    public static bool IsGlobalPrivacyControl(ReadOnlySpan<char> secGpcHeaderValue) => secGpcHeaderValue.Trim() is "1";

    /// <summary>What gcs and gcd said about one consent type.</summary>
    public ConsentTypeSignal Get(ConsentType type)
    {
        var shift = 8 * ((int)type & 3);
        var bits = _types >> shift;
        return new ConsentTypeSignal(
            (ConsentState)((bits >> SignalParser.DefaultShift) & SignalParser.StateMask),
            (ConsentState)((bits >> SignalParser.UpdateShift) & SignalParser.StateMask),
            (ConsentState)((bits >> SignalParser.GcsShift) & SignalParser.StateMask),
            (bits & SignalParser.GcdUnreadableBit) != 0,
            (bits & SignalParser.GcsUnreadableBit) != 0,
            (char)((_unknownLetters >> shift) & 0xFF));
    }

    /// <summary>gcd carried, for at least one type, a letter outside the nine documented ones (read as "not set").</summary>
    public bool HasUnknownGcdLetter => _unknownLetters != 0;

    public ConsentTypeSignal AdStorage => Get(ConsentType.AdStorage);

    public ConsentTypeSignal AnalyticsStorage => Get(ConsentType.AnalyticsStorage);

    public ConsentTypeSignal AdUserData => Get(ConsentType.AdUserData);

    public ConsentTypeSignal AdPersonalization => Get(ConsentType.AdPersonalization);

    /// <summary>The browser sent <c>Sec-GPC: 1</c>.</summary>
    public bool GlobalPrivacyControl => Has(SignalFlags.Gpc);

    public SignalPresence Gcs => Presence(SignalFlags.GcsPresent, SignalFlags.GcsMalformed);

    public SignalPresence Gcd => Presence(SignalFlags.GcdPresent, SignalFlags.GcdMalformed);

    /// <summary>npa: true = non-personalised ads requested (1), false = 0, null = absent or malformed.</summary>
    public bool? NonPersonalizedAds => Binary(SignalFlags.NpaPresent, SignalFlags.NpaSet, SignalFlags.NpaMalformed);

    /// <summary>dma: true = the Digital Markets Act applies (1), false = 0, null = absent or malformed.</summary>
    public bool? DmaApplies => Binary(SignalFlags.DmaPresent, SignalFlags.DmaSet, SignalFlags.DmaMalformed);

    /// <summary>dma_cps was sent (its purpose letters are undocumented, so only presence is kept).</summary>
    public bool HasDmaPurposes => Has(SignalFlags.DmaCpsPresent);

    /// <summary>gcu or gcut was sent: the page changed ad_storage before this hit.</summary>
    public bool ConsentUpdated => (_flags & (SignalFlags.GcuPresent | SignalFlags.GcutPresent)) != 0;

    /// <summary>TCF gdpr: true = GDPR applies (1), false = 0, null = absent or malformed.</summary>
    public bool? GdprApplies => Binary(SignalFlags.GdprPresent, SignalFlags.GdprSet, SignalFlags.GdprMalformed);

    public SignalPresence NpaPresence => Presence(SignalFlags.NpaPresent, SignalFlags.NpaMalformed);

    public SignalPresence DmaPresence => Presence(SignalFlags.DmaPresent, SignalFlags.DmaMalformed);

    public SignalPresence GdprPresence => Presence(SignalFlags.GdprPresent, SignalFlags.GdprMalformed);

    /// <summary>TCF gdpr_consent (TC string).</summary>
    public SignalPresence TcfConsent => Presence(SignalFlags.TcfPresent, SignalFlags.TcfMalformed);

    /// <summary>GPP gpp string.</summary>
    public SignalPresence Gpp => Presence(SignalFlags.GppPresent, SignalFlags.GppMalformed);

    /// <summary>GPP gpp_sid section ids.</summary>
    public SignalPresence GppSectionIds => Presence(SignalFlags.GppSidPresent, SignalFlags.GppSidMalformed);

    /// <summary>The hit carried a Consent Mode signal at all (gcs or gcd, readable or not): i.e. a consent banner or default ran.</summary>
    public bool HasConsentModeSignal => (_flags & (SignalFlags.GcsPresent | SignalFlags.GcdPresent)) != 0;

    public bool Equals(ConsentSignals other) => _types == other._types && _flags == other._flags && _unknownLetters == other._unknownLetters;

    public override bool Equals(object? obj) => obj is ConsentSignals other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_types, _flags, _unknownLetters);

    public static bool operator ==(ConsentSignals left, ConsentSignals right) => left.Equals(right);

    public static bool operator !=(ConsentSignals left, ConsentSignals right) => !left.Equals(right);

    private bool Has(SignalFlags flag) => (_flags & flag) != 0;

    private SignalPresence Presence(SignalFlags present, SignalFlags malformed) =>
        !Has(present) ? SignalPresence.Absent : Has(malformed) ? SignalPresence.Malformed : SignalPresence.WellFormed;

    private bool? Binary(SignalFlags present, SignalFlags set, SignalFlags malformed) =>
        !Has(present) || Has(malformed) ? null : Has(set);
}
