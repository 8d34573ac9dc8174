namespace TagGateway.Consent.Signals;

/// <summary>The four Consent Mode v2 types, in the order gcd carries them (letters at index 2, 4, 6, 8).</summary>
public enum ConsentType
{
    AdStorage = 0,
    AnalyticsStorage = 1,
    AdUserData = 2,
    AdPersonalization = 3,
}

/// <summary>A set of consent types, used by the matrix to say which types a capability needs.</summary>
[Flags]
public enum ConsentTypes
{
    None = 0,
    AdStorage = 1 << ConsentType.AdStorage,
    AnalyticsStorage = 1 << ConsentType.AnalyticsStorage,
    AdUserData = 1 << ConsentType.AdUserData,
    AdPersonalization = 1 << ConsentType.AdPersonalization,
    All = AdStorage | AnalyticsStorage | AdUserData | AdPersonalization,
}

/// <summary>One decoded consent state. Unknown covers "not set", "undefined" and anything unreadable: never Granted by accident.</summary>
public enum ConsentState
{
    Unknown = 0,
    Denied = 1,
    Granted = 2,
}

/// <summary>Whether a parameter arrived, and whether it had the expected shape.</summary>
public enum SignalPresence
{
    Absent = 0,
    WellFormed = 1,
    Malformed = 2,
}
