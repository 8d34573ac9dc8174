using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Policy;

/// <summary>
/// The consent decision for one event, computed once by <see cref="IConsentPolicy.Decide"/>: the signals it came from,
/// the effective consent and, per destination, what may be sent. A value type holding four 64-bit masks (one bit per
/// destination): deciding and asking never allocate. <c>default</c> blocks everything.
/// </summary>
public readonly struct ConsentDecision
{
    private readonly DestinationTable? _table;
    private readonly ulong _send;
    private readonly ulong _identifiers;
    private readonly ulong _userData;
    private readonly ulong _restricted;
    private readonly ulong _withdrawn;

    internal ConsentDecision(in ConsentSignals signals, ResolvedConsent consent, RegionProfile regionProfile, DestinationTable table)
    {
        Signals = signals;
        Consent = consent;
        RegionProfile = regionProfile;
        _table = table;

        var granted = consent.Granted;
        var refused = consent.Withdrawn;
        var gpc = signals.GlobalPrivacyControl;
        ulong send = 0, identifiers = 0, userData = 0, restricted = 0, withdrawn = 0;
        var rules = table.Rules;
        for (var i = 0; i < rules.Length; i++)
        {
            var bits = rules[i].Evaluate(granted, gpc);
            var bit = 1UL << i;
            send |= (bits & DestinationBits.Send) != 0 ? bit : 0;
            identifiers |= (bits & DestinationBits.Identifiers) != 0 ? bit : 0;
            userData |= (bits & DestinationBits.UserData) != 0 ? bit : 0;
            restricted |= (bits & DestinationBits.Restricted) != 0 ? bit : 0;

            // Identifiers are withdrawn only when the visitor refused a type they need; any other denial leaves them be.
            withdrawn |= (bits & DestinationBits.Identifiers) == 0 && (refused & rules[i].IdentifiersRequire) != 0 ? bit : 0;
        }

        (_send, _identifiers, _userData, _restricted, _withdrawn) = (send, identifiers, userData, restricted, withdrawn);
    }

    /// <summary>The decoded signals of the event.</summary>
    public ConsentSignals Signals { get; }

    /// <summary>The effective state of each consent type and where it came from.</summary>
    public ResolvedConsent Consent { get; }

    /// <summary>Which region default was in force.</summary>
    public RegionProfile RegionProfile { get; }

    /// <summary>Where the denial of a type came from (an update, a default, the region default, GPC …); None when granted.</summary>
    public ConsentDenial DenialOf(ConsentType type) => Consent.Get(type).Denial;

    /// <summary>The types the visitor explicitly refused on this event (an update to denied).</summary>
    public ConsentTypes Withdrawn => Consent.Withdrawn;

    /// <summary>Built-in plus configured destinations; <see cref="For(ConsentDestination)"/> accepts 0..Count-1.</summary>
    public int DestinationCount => _table?.Count ?? 0;

    /// <summary>The decision for a destination; configured destinations follow the built-ins.</summary>
    public DestinationDecision For(ConsentDestination destination)
    {
        var index = (int)destination;
        if (_table is null || (uint)index >= (uint)_table.Count)
        {
            return default;
        }

        var rule = _table.Rules[index];
        var bit = 1UL << index;
        var bits = DestinationBits.None;
        bits |= (_send & bit) != 0 ? DestinationBits.Send : 0;
        bits |= (_identifiers & bit) != 0 ? DestinationBits.Identifiers : 0;
        bits |= (_userData & bit) != 0 ? DestinationBits.UserData : 0;
        bits |= (_restricted & bit) != 0 ? DestinationBits.Restricted : 0;
        bits |= (_withdrawn & bit) != 0 ? DestinationBits.IdentifiersWithdrawn : 0;
        return new DestinationDecision(destination, rule.Name, bits, rule.RestrictedForm);
    }

    /// <summary>The decision for a destination by name (case-insensitive); an unknown name is blocked.</summary>
    public DestinationDecision For(ReadOnlySpan<char> name) =>
        _table is not null && _table.TryGetIndex(name, out var index) ? For((ConsentDestination)index) : default;
}

/// <summary>What one destination may receive for one event.</summary>
public readonly struct DestinationDecision : IEquatable<DestinationDecision>
{
    private readonly DestinationBits _bits;
    private readonly RestrictedForm _form;

    internal DestinationDecision(ConsentDestination destination, string name, DestinationBits bits, RestrictedForm form)
    {
        Destination = destination;
        Name = name;
        _bits = bits;
        _form = form;
    }

    public ConsentDestination Destination { get; }

    /// <summary>The destination name; null for a name the policy does not know.</summary>
    public string? Name { get; }

    /// <summary>The event may be sent to this destination.</summary>
    public bool MaySend => (_bits & DestinationBits.Send) != 0;

    /// <summary>Identifier cookies may be read or written and client/user ids forwarded.</summary>
    public bool MayUseIdentifiers => (_bits & DestinationBits.Identifiers) != 0;

    /// <summary>
    /// Identifiers may not be used because the visitor refused (an update to denied) a consent type they need: what was
    /// stored for this destination should go. False for every other denial (a default, the region default, GPC, a
    /// disabled destination), which leaves stored identifiers untouched.
    /// </summary>
    public bool IdentifiersWithdrawn => (_bits & DestinationBits.IdentifiersWithdrawn) != 0;

    /// <summary>User data may be attached: hashed PII, click ids, IP, user agent.</summary>
    public bool MayAttachUserData => (_bits & DestinationBits.UserData) != 0;

    /// <summary>The event must be sent in its restricted form (<see cref="RestrictedForm"/>).</summary>
    public bool IsRestricted => (_bits & DestinationBits.Restricted) != 0;

    /// <summary>The restricted form to apply; None unless <see cref="IsRestricted"/>.</summary>
    public RestrictedForm RestrictedForm => IsRestricted ? _form : RestrictedForm.None;

    public ConsentOutcome Outcome =>
        !MaySend ? ConsentOutcome.Blocked
        : !MayUseIdentifiers ? ConsentOutcome.Cookieless
        : IsRestricted || !MayAttachUserData ? ConsentOutcome.Limited
        : ConsentOutcome.Full;

    public bool Equals(DestinationDecision other) =>
        Destination == other.Destination && _bits == other._bits && _form == other._form && string.Equals(Name, other.Name, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is DestinationDecision other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Destination, _bits, _form);

    public static bool operator ==(DestinationDecision left, DestinationDecision right) => left.Equals(right);

    public static bool operator !=(DestinationDecision left, DestinationDecision right) => !left.Equals(right);

    public override string ToString() => $"{Name}: {Outcome}";
}
