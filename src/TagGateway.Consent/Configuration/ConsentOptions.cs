using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Configuration;

/// <summary>
/// Options bound from the <c>Consent</c> configuration section with the binding source generator.
/// Defaults are the strict ones: EEA/GB/CH and unknown regions deny everything until a signal grants it; logging is off.
/// </summary>
public sealed class ConsentOptions
{
    public const string SectionName = "Consent";

    /// <summary>Defaults in the EEA, GB, CH and unknown regions (Consent:StrictDefaults). All denied unless configured.</summary>
    public RegionDefaultOptions StrictDefaults { get; set; } = new()
    {
        AdStorage = ConsentDefault.Denied,
        AnalyticsStorage = ConsentDefault.Denied,
        AdUserData = ConsentDefault.Denied,
        AdPersonalization = ConsentDefault.Denied,
    };

    /// <summary>Defaults everywhere else (Consent:OtherDefaults). All granted unless configured.</summary>
    public RegionDefaultOptions OtherDefaults { get; set; } = new()
    {
        AdStorage = ConsentDefault.Granted,
        AnalyticsStorage = ConsentDefault.Granted,
        AdUserData = ConsentDefault.Granted,
        AdPersonalization = ConsentDefault.Granted,
    };

    /// <summary>
    /// Per-region overrides keyed by "DE" or "US-CA" (Consent:RegionDefaults:US-CA:AdUserData = Denied). Unset types inherit
    /// from the country's entry, then from the strict or other defaults the region would otherwise get.
    /// </summary>
    public Dictionary<string, RegionDefaultOptions> RegionDefaults { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Destinations keyed by name (Consent:Destinations:Snap:SendRequires = "AdStorage, AdUserData"). A built-in name
    /// (GoogleAnalytics, GoogleAds, Meta, TikTok, LinkedIn) overrides the given columns of its matrix row; a new name adds a row.
    /// </summary>
    public Dictionary<string, DestinationOptions> Destinations { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The consent audit log (Consent:Log).</summary>
    [ValidateObjectMembers]
    public ConsentLogOptions Log { get; set; } = new();
}

/// <summary>A default consent state used when no signal arrives.</summary>
public enum ConsentDefault
{
    Denied = 0,
    Granted = 1,
}

/// <summary>Default state per consent type; null inherits.</summary>
public sealed class RegionDefaultOptions
{
    public ConsentDefault? AdStorage { get; set; }

    public ConsentDefault? AnalyticsStorage { get; set; }

    public ConsentDefault? AdUserData { get; set; }

    public ConsentDefault? AdPersonalization { get; set; }

    /// <summary>Applies the configured types over <paramref name="inherited"/> (granted types as flags).</summary>
    internal ConsentTypes ApplyTo(ConsentTypes inherited)
    {
        inherited = Apply(inherited, ConsentTypes.AdStorage, AdStorage);
        inherited = Apply(inherited, ConsentTypes.AnalyticsStorage, AnalyticsStorage);
        inherited = Apply(inherited, ConsentTypes.AdUserData, AdUserData);
        return Apply(inherited, ConsentTypes.AdPersonalization, AdPersonalization);
    }

    private static ConsentTypes Apply(ConsentTypes granted, ConsentTypes type, ConsentDefault? value) => value switch
    {
        ConsentDefault.Granted => granted | type,
        ConsentDefault.Denied => granted & ~type,
        _ => granted,
    };
}

/// <summary>One matrix row from configuration; null columns inherit from the built-in row or the strict configured-destination default.</summary>
public sealed class DestinationOptions
{
    /// <summary>False switches the destination off.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Consent types needed to send at all, e.g. "AdStorage".</summary>
    public ConsentTypes? SendRequires { get; set; }

    /// <summary>Consent types needed to use identifier cookies and ids.</summary>
    public ConsentTypes? IdentifiersRequire { get; set; }

    /// <summary>Consent types needed to attach user data (hashed PII, click ids, IP, UA).</summary>
    public ConsentTypes? UserDataRequires { get; set; }

    /// <summary>Ignore, Restrict (needs <see cref="RestrictedForm"/>) or Block when ad_personalization is denied.</summary>
    public PersonalizationDeniedAction? WhenPersonalizationDenied { get; set; }

    public RestrictedForm? RestrictedForm { get; set; }

    /// <summary>Sec-GPC: 1 stops sending to this destination.</summary>
    public bool? BlockOnGpc { get; set; }
}

/// <summary>Where the consent audit log goes.</summary>
public enum ConsentLogMode
{
    None = 0,
    Stdout = 1,
    File = 2,
}

/// <summary>The consent audit log (Consent:Log).</summary>
public sealed class ConsentLogOptions
{
    public ConsentLogMode Mode { get; set; } = ConsentLogMode.None;

    /// <summary>Log file path when <see cref="Mode"/> is File; rotated files get ".1", ".2", … appended.</summary>
    public string? Path { get; set; }

    /// <summary>Fraction of events logged, 0..1.</summary>
    [Range(0.0, 1.0)]
    public double SampleRate { get; set; } = 1.0;

    /// <summary>Size at which the log file rotates.</summary>
    [Range(4096L, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Files kept, the current one included.</summary>
    [Range(1, 1000)]
    public int MaxFiles { get; set; } = 5;

    /// <summary>Secret key for the client-id hash (HMAC-SHA256); required, at least 16 characters, when logging is on.</summary>
    public string? ClientIdSalt { get; set; }

    /// <summary>Entries buffered for the writer; when full, entries are dropped and counted, never waited for.</summary>
    [Range(16, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;
}
