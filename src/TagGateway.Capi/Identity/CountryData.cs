using System.Collections.Frozen;

namespace TagGateway.Capi.Identity;

/// <summary>
/// Small lookup tables for normalisation: calling codes for national phone numbers, English country names to ISO codes,
/// and US state names to their two-letter codes. Built once, frozen.
/// </summary>
internal static class CountryData
{
    // code, calling code, English names (lower case, letters only).
    private static readonly (string Code, string Calling, string[] Names)[] Countries =
    [
        ("us", "1", ["unitedstates", "unitedstatesofamerica", "usa"]),
        ("ca", "1", ["canada"]),
        ("gb", "44", ["unitedkingdom", "greatbritain", "uk", "england", "scotland", "wales"]),
        ("ie", "353", ["ireland"]),
        ("de", "49", ["germany", "deutschland"]),
        ("fr", "33", ["france"]),
        ("es", "34", ["spain", "espana"]),
        ("it", "39", ["italy", "italia"]),
        ("pt", "351", ["portugal"]),
        ("nl", "31", ["netherlands", "thenetherlands", "holland"]),
        ("be", "32", ["belgium"]),
        ("lu", "352", ["luxembourg"]),
        ("at", "43", ["austria"]),
        ("ch", "41", ["switzerland"]),
        ("se", "46", ["sweden"]),
        ("no", "47", ["norway"]),
        ("dk", "45", ["denmark"]),
        ("fi", "358", ["finland"]),
        ("is", "354", ["iceland"]),
        ("pl", "48", ["poland"]),
        ("cz", "420", ["czechia", "czechrepublic"]),
        ("sk", "421", ["slovakia"]),
        ("hu", "36", ["hungary"]),
        ("ro", "40", ["romania"]),
        ("bg", "359", ["bulgaria"]),
        ("gr", "30", ["greece"]),
        ("hr", "385", ["croatia"]),
        ("si", "386", ["slovenia"]),
        ("ee", "372", ["estonia"]),
        ("lv", "371", ["latvia"]),
        ("lt", "370", ["lithuania"]),
        ("cy", "357", ["cyprus"]),
        ("mt", "356", ["malta"]),
        ("tr", "90", ["turkey", "turkiye"]),
        ("am", "374", ["armenia"]),
        ("ua", "380", ["ukraine"]),
        ("il", "972", ["israel"]),
        ("ae", "971", ["unitedarabemirates", "uae"]),
        ("sa", "966", ["saudiarabia"]),
        ("in", "91", ["india"]),
        ("cn", "86", ["china"]),
        ("jp", "81", ["japan"]),
        ("kr", "82", ["southkorea", "korea", "republicofkorea"]),
        ("sg", "65", ["singapore"]),
        ("au", "61", ["australia"]),
        ("nz", "64", ["newzealand"]),
        ("za", "27", ["southafrica"]),
        ("br", "55", ["brazil", "brasil"]),
        ("mx", "52", ["mexico"]),
        ("ar", "54", ["argentina"]),
        ("cl", "56", ["chile"]),
        ("co", "57", ["colombia"]),
    ];

    private static readonly FrozenDictionary<string, string> CallingCodes =
        Countries.ToFrozenDictionary(static c => c.Code, static c => c.Calling, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, string> NameToCode =
        Countries.SelectMany(static c => c.Names.Select(n => (Name: n, c.Code))).ToFrozenDictionary(static p => p.Name, static p => p.Code, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string> UsStates = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["alabama"] = "al", ["alaska"] = "ak", ["arizona"] = "az", ["arkansas"] = "ar", ["california"] = "ca", ["colorado"] = "co",
        ["connecticut"] = "ct", ["delaware"] = "de", ["districtofcolumbia"] = "dc", ["florida"] = "fl", ["georgia"] = "ga", ["hawaii"] = "hi",
        ["idaho"] = "id", ["illinois"] = "il", ["indiana"] = "in", ["iowa"] = "ia", ["kansas"] = "ks", ["kentucky"] = "ky",
        ["louisiana"] = "la", ["maine"] = "me", ["maryland"] = "md", ["massachusetts"] = "ma", ["michigan"] = "mi", ["minnesota"] = "mn",
        ["mississippi"] = "ms", ["missouri"] = "mo", ["montana"] = "mt", ["nebraska"] = "ne", ["nevada"] = "nv", ["newhampshire"] = "nh",
        ["newjersey"] = "nj", ["newmexico"] = "nm", ["newyork"] = "ny", ["northcarolina"] = "nc", ["northdakota"] = "nd", ["ohio"] = "oh",
        ["oklahoma"] = "ok", ["oregon"] = "or", ["pennsylvania"] = "pa", ["rhodeisland"] = "ri", ["southcarolina"] = "sc", ["southdakota"] = "sd",
        ["tennessee"] = "tn", ["texas"] = "tx", ["utah"] = "ut", ["vermont"] = "vt", ["virginia"] = "va", ["washington"] = "wa",
        ["westvirginia"] = "wv", ["wisconsin"] = "wi", ["wyoming"] = "wy", ["puertorico"] = "pr",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> NameLookup = NameToCode.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The calling code of an ISO country (either case), or null.</summary>
    public static string? CallingCode(string? country) => country is not null && CallingCodes.TryGetValue(country, out var code) ? code : null;

    /// <summary>The ISO code for an English country name (letters compared, case and punctuation ignored), or null.</summary>
    public static string? CodeOfName(ReadOnlySpan<char> name)
    {
        Span<char> letters = stackalloc char[64];
        var n = 0;
        foreach (var c in name)
        {
            if (char.IsAsciiLetter(c))
            {
                if (n == letters.Length)
                {
                    return null;
                }

                letters[n++] = char.ToLowerInvariant(c);
            }
        }

        return NameLookup.TryGetValue(letters[..n], out var code) ? code : null;
    }

    /// <summary>The two-letter code of a US state written out (letters only, lower case), or null.</summary>
    public static string? UsStateCode(string letters) => UsStates.TryGetValue(letters, out var code) ? code : null;
}
