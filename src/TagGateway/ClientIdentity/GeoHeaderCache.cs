using System.Collections.Concurrent;
using Microsoft.Extensions.Primitives;

namespace TagGateway.ClientIdentity;

/// <summary>
/// Validates edge geolocation values and interns the <c>CC-RR</c> strings built from them, so a steady stream of
/// hits from the same regions builds no new strings. Bounded: there are only a few thousand real subdivisions.
/// </summary>
internal sealed class GeoHeaderCache
{
    private const int MaxEntries = 8192;
    private readonly ConcurrentDictionary<(string Country, string? Region), (string CountryRegion, string Country)> _cache = new();

    /// <summary>From a country header and a region header (the region may be CLDR <c>USCA</c> or plain <c>CA</c>).</summary>
    public (string? CountryRegion, string? Country) Get(StringValues countryValues, StringValues regionValues)
    {
        if (countryValues.Count != 1 || countryValues[0] is not { } country || !IsCountry(country))
        {
            return (null, null);
        }

        var region = regionValues.Count == 1 ? regionValues[0] : null;
        return Lookup(country, region);
    }

    /// <summary>From one <c>CC-RR</c> or <c>CC</c> value.</summary>
    public (string? CountryRegion, string? Country) GetCombined(string? value)
    {
        if (value is null || value.Length < 2)
        {
            return (null, null);
        }

        var dash = value.IndexOf('-', StringComparison.Ordinal);
        var country = dash < 0 ? value : value[..dash];
        if (!IsCountry(country))
        {
            return (null, null);
        }

        return Lookup(country, dash < 0 ? null : value[(dash + 1)..]);
    }

    private (string? CountryRegion, string? Country) Lookup(string country, string? region)
    {
        if (_cache.TryGetValue((country, region), out var hit))
        {
            return hit;
        }

        var cc = country.ToUpperInvariant();
        var rr = NormalizeRegion(cc, region);
        var entry = (rr is null ? cc : string.Concat(cc, "-", rr), cc);
        if (_cache.Count < MaxEntries)
        {
            _cache.TryAdd((country, region), entry);
        }

        return entry;
    }

    private static bool IsCountry(string value) =>
        value.Length == 2 && char.IsAsciiLetter(value[0]) && char.IsAsciiLetter(value[1])
        // XX: unknown (Cloudflare); T1: Tor (Cloudflare); ZZ: unknown (CLDR).
        && !value.Equals("XX", StringComparison.OrdinalIgnoreCase)
        && !value.Equals("T1", StringComparison.OrdinalIgnoreCase)
        && !value.Equals("ZZ", StringComparison.OrdinalIgnoreCase);

    private static string? NormalizeRegion(string country, string? region)
    {
        if (string.IsNullOrEmpty(region))
        {
            return null;
        }

        var span = region.AsSpan().Trim();

        // CLDR subdivisions (GCP's {client_region_subdivision}) carry the country first: USCA -> CA.
        if (span.Length > 2 && span[..2].Equals(country, StringComparison.OrdinalIgnoreCase))
        {
            span = span[2..];
        }

        // ISO 3166-2 codes are 1-3 letters or digits; anything else is not believed.
        if (span.Length is < 1 or > 3)
        {
            return null;
        }

        foreach (var c in span)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return null;
            }
        }

        return span.ToString().ToUpperInvariant();
    }
}
