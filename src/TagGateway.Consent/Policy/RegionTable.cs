using System.Collections.Frozen;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Policy;

/// <summary>The region defaults of one configuration, resolved into frozen lookups. Immutable; rebuilt whole on reload.</summary>
internal sealed class RegionTable
{
    private readonly FrozenDictionary<string, ConsentTypes> _configured;
    private readonly FrozenDictionary<string, ConsentTypes>.AlternateLookup<ReadOnlySpan<char>> _configuredBySpan;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _strict;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _known;

    public RegionTable(ConsentTypes strictGranted, ConsentTypes otherGranted, FrozenDictionary<string, ConsentTypes> configured)
    {
        StrictGranted = strictGranted;
        OtherGranted = otherGranted;
        _configured = configured;
        _configuredBySpan = configured.GetAlternateLookup<ReadOnlySpan<char>>();
        _strict = RegionCatalog.StrictCountries.GetAlternateLookup<ReadOnlySpan<char>>();
        _known = RegionCatalog.KnownCountries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Types granted by default in the strict regions (and unknown ones).</summary>
    public ConsentTypes StrictGranted { get; }

    /// <summary>Types granted by default everywhere else.</summary>
    public ConsentTypes OtherGranted { get; }

    public IReadOnlyDictionary<string, ConsentTypes> Configured => _configured;

    /// <summary>
    /// The default for a region code such as "DE", "us-ca" or "": the exact configured entry, else the country's configured
    /// entry, else the built-in strict/other profile; anything unrecognised gets the strict defaults. gdpr=1 makes a
    /// lenient region strict.
    /// </summary>
    public (ConsentTypes Granted, RegionProfile Profile) Resolve(ReadOnlySpan<char> region, bool gdprApplies)
    {
        region = region.Trim();
        (var granted, var profile) = Lookup(region);
        if (gdprApplies && profile is (RegionProfile.Other or RegionProfile.Configured) && (granted & ~StrictGranted) != 0)
        {
            return (StrictGranted, RegionProfile.GdprApplies);
        }

        return (granted, profile);
    }

    private (ConsentTypes, RegionProfile) Lookup(ReadOnlySpan<char> region)
    {
        if (region.IsEmpty)
        {
            return (StrictGranted, RegionProfile.Unknown);
        }

        if (_configuredBySpan.TryGetValue(region, out var exact))
        {
            return (exact, RegionProfile.Configured);
        }

        if (!TryGetCountry(region, out var country))
        {
            return (StrictGranted, RegionProfile.Unknown);
        }

        if (country.Length != region.Length && _configuredBySpan.TryGetValue(country, out var countryDefault))
        {
            return (countryDefault, RegionProfile.Configured);
        }

        if (_strict.Contains(country))
        {
            return (StrictGranted, RegionProfile.Strict);
        }

        return _known.Contains(country) ? (OtherGranted, RegionProfile.Other) : (StrictGranted, RegionProfile.Unknown);
    }

    /// <summary>"DE" or "US-CA" → the two-letter country; anything else is not a region code.</summary>
    internal static bool TryGetCountry(ReadOnlySpan<char> region, out ReadOnlySpan<char> country)
    {
        country = default;
        if (region.Length < 2 || !char.IsAsciiLetter(region[0]) || !char.IsAsciiLetter(region[1]))
        {
            return false;
        }

        if (region.Length > 2 && (region[2] != '-' || region.Length > 6 || !IsSubdivision(region[3..])))
        {
            return false;
        }

        country = region[..2];
        return true;
    }

    private static bool IsSubdivision(ReadOnlySpan<char> code)
    {
        if (code.IsEmpty)
        {
            return false;
        }

        foreach (var c in code)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
