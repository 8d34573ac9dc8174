using System.Collections.Frozen;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Policy;

/// <summary>Everything a decision needs from one configuration, built once and swapped whole on reload.</summary>
internal sealed class ConsentPolicySnapshot
{
    public ConsentPolicySnapshot(RegionTable regions, DestinationTable destinations)
    {
        Regions = regions;
        Destinations = destinations;
    }

    public RegionTable Regions { get; }

    public DestinationTable Destinations { get; }

    public ConsentDecision Decide(in ConsentSignals signals, ReadOnlySpan<char> region)
    {
        (var regionGranted, var profile) = Regions.Resolve(region, signals.GdprApplies == true);
        var consent = ResolvedConsent.Resolve(signals, regionGranted);
        return new ConsentDecision(signals, consent, profile, Destinations);
    }

    /// <summary>Builds the snapshot of validated options.</summary>
    public static ConsentPolicySnapshot Create(ConsentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ConsentPolicySnapshot(BuildRegions(options), BuildDestinations(options));
    }

    private static RegionTable BuildRegions(ConsentOptions options)
    {
        var strict = options.StrictDefaults?.ApplyTo(ConsentTypes.None) ?? ConsentTypes.None;
        var other = options.OtherDefaults?.ApplyTo(ConsentTypes.All) ?? ConsentTypes.All;
        Dictionary<string, RegionDefaultOptions> configured = new(options.RegionDefaults ?? [], StringComparer.OrdinalIgnoreCase);

        var resolved = new Dictionary<string, ConsentTypes>(StringComparer.OrdinalIgnoreCase);
        foreach ((var key, var value) in configured)
        {
            if (value is null || !RegionTable.TryGetCountry(key, out var country))
            {
                continue;
            }

            // Subdivision entries inherit from their country's entry, which inherits from the built-in profile.
            var countryCode = country.ToString();
            var baseline = RegionCatalog.StrictCountries.Contains(countryCode) || !RegionCatalog.KnownCountries.Contains(countryCode)
                ? strict
                : other;
            if (key.Length > 2 && configured.TryGetValue(countryCode, out var countryEntry) && countryEntry is not null)
            {
                baseline = countryEntry.ApplyTo(baseline);
            }

            resolved[key] = value.ApplyTo(baseline);
        }

        return new RegionTable(strict, other, resolved.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }

    private static DestinationTable BuildDestinations(ConsentOptions options)
    {
        var rules = new List<DestinationRule>(ConsentMatrix.BuiltIn);
        Dictionary<string, DestinationOptions> configured = new(options.Destinations ?? [], StringComparer.OrdinalIgnoreCase);

        for (var i = 0; i < rules.Count; i++)
        {
            if (configured.TryGetValue(rules[i].Name, out var overrides) && overrides is not null)
            {
                rules[i] = Apply(rules[i], overrides);
            }
        }

        // Added destinations in a stable order so their indexes do not depend on configuration provider order.
        foreach ((var name, var value) in configured.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (value is null || ConsentMatrix.BuiltIn.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var defaults = ConsentMatrix.DefaultForConfigured(name);
            var send = value.SendRequires ?? defaults.SendRequires;
            var identifiers = value.IdentifiersRequire ?? (send == ConsentTypes.None ? ConsentTypes.AdStorage : send);

            // Unset columns follow the ones given: identifiers need what sending needs, user data adds ad_user_data.
            defaults = defaults with
            {
                IdentifiersRequire = identifiers,
                UserDataRequires = identifiers | ConsentTypes.AdUserData,
            };
            rules.Add(Apply(defaults, value));
        }

        return new DestinationTable([.. rules]);
    }

    private static DestinationRule Apply(DestinationRule rule, DestinationOptions options) => rule with
    {
        Enabled = options.Enabled ?? rule.Enabled,
        SendRequires = options.SendRequires ?? rule.SendRequires,
        IdentifiersRequire = options.IdentifiersRequire ?? rule.IdentifiersRequire,
        UserDataRequires = options.UserDataRequires ?? rule.UserDataRequires,
        WhenPersonalizationDenied = options.WhenPersonalizationDenied ?? rule.WhenPersonalizationDenied,
        RestrictedForm = options.RestrictedForm ?? rule.RestrictedForm,
        BlockOnGpc = options.BlockOnGpc ?? rule.BlockOnGpc,
    };
}
