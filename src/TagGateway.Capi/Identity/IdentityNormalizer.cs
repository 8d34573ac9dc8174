using System.Buffers;

namespace TagGateway.Capi.Identity;

/// <summary>
/// Normalisation (conversion-apis.md §1.3, §4, §7) followed by SHA-256 for the hashed keys. Each method takes the raw
/// value as the site sent it and returns the stored form, or null when nothing usable remains. A value that already is
/// a 64-hex digest passes through unchanged. Work happens in stack (or pooled) buffers; only the result is allocated.
/// </summary>
internal static class IdentityNormalizer
{
    private const int StackLimit = 256;

    /// <summary>Email for Meta, TikTok and LinkedIn: trim, lower case.</summary>
    public static string? Email(string? raw) => EmailCore(raw, google: false);

    /// <summary>Email for Google: lower case, every blank removed, and for gmail.com/googlemail.com no dots and no +suffix in the local part.</summary>
    public static string? EmailGoogle(string? raw) => EmailCore(raw, google: true);

    private static string? EmailCore(string? raw, bool google)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return null;
        }

        if (Sha256Hex.IsHash(s))
        {
            return Sha256Hex.PassThrough(s);
        }

        char[]? rented = null;
        var buffer = s.Length <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(s.Length));
        try
        {
            var n = 0;
            foreach (var c in s)
            {
                if (google && char.IsWhiteSpace(c))
                {
                    continue;
                }

                buffer[n++] = char.ToLowerInvariant(c);
            }

            var email = buffer[..n];
            var at = email.LastIndexOf('@');
            if (at <= 0 || at == email.Length - 1)
            {
                return null;
            }

            if (google)
            {
                ReadOnlySpan<char> domain = email[(at + 1)..];
                if (domain is "gmail.com" or "googlemail.com")
                {
                    var m = 0;
                    for (var i = 0; i < at; i++)
                    {
                        var c = email[i];
                        if (c == '+')
                        {
                            break;
                        }

                        if (c != '.')
                        {
                            email[m++] = c;
                        }
                    }

                    domain.CopyTo(email[(m + 1)..]);
                    email[m] = '@';
                    email = email[..(m + 1 + domain.Length)];
                }
            }

            return Sha256Hex.Hash(email);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Phone as digits with the country code: "+" or "00" marks an international number; otherwise the country's calling
    /// code (from <paramref name="country"/>, else <paramref name="defaultCallingCode"/>) replaces the national trunk
    /// prefix. Returns (digits for Meta, E.164 with '+' for Google and TikTok), each hashed; a digest passes into both.
    /// </summary>
    public static (string? Digits, string? E164) Phone(string? raw, string? country, string? defaultCallingCode)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return default;
        }

        if (Sha256Hex.IsHash(s))
        {
            var hash = Sha256Hex.PassThrough(s);
            return (hash, hash);
        }

        Span<char> digits = stackalloc char[40];
        var n = 0;
        var international = s[0] == '+';
        foreach (var c in s)
        {
            if (char.IsAsciiDigit(c))
            {
                if (n == digits.Length)
                {
                    return default;
                }

                digits[n++] = c;
            }
            else if (char.IsAsciiLetter(c))
            {
                // An extension ("x123") or a word: the number ends here.
                break;
            }
        }

        ReadOnlySpan<char> number = digits[..n];
        if (!international && number.StartsWith("00"))
        {
            international = true;
            number = number[2..];
        }

        Span<char> full = stackalloc char[48];
        int length;
        if (international)
        {
            number.CopyTo(full[1..]);
            length = number.Length;
        }
        else
        {
            var code = CountryData.CallingCode(country) ?? defaultCallingCode;
            if (code is null)
            {
                return default;
            }

            if (code == "1" && number.Length == 11 && number[0] == '1')
            {
                // NANP numbers are often written with the country code and no '+'.
                number = number[1..];
            }

            number = number.TrimStart('0');
            code.AsSpan().CopyTo(full[1..]);
            number.CopyTo(full[(1 + code.Length)..]);
            length = code.Length + number.Length;
        }

        if (length is < 7 or > 15)
        {
            return default;
        }

        full[0] = '+';
        return (Sha256Hex.Hash(full.Slice(1, length)), Sha256Hex.Hash(full[..(length + 1)]));
    }

    /// <summary>First or last name: trim, lower case, punctuation and symbols removed; accents and non-Latin scripts kept (NFC).</summary>
    public static string? Name(string? raw)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return null;
        }

        if (Sha256Hex.IsHash(s))
        {
            return Sha256Hex.PassThrough(s);
        }

        if (s.IndexOfAnyInRange('\u0300', '\u036F') >= 0)
        {
            s = Compose(s);
        }

        return HashFiltered(s, static c => !char.IsPunctuation(c) && !char.IsSymbol(c));
    }

    /// <summary>NFC for letter + combining mark (invariant globalization has no string.Normalize); other marks stay as they are.</summary>
    private static ReadOnlySpan<char> Compose(ReadOnlySpan<char> s)
    {
        var composed = new char[s.Length];
        var n = 0;
        foreach (var c in s)
        {
            if (n > 0 && LatinComposition.IsCombining(c) && LatinComposition.Compose(composed[n - 1], c) is not '\0' and char precomposed)
            {
                composed[n - 1] = precomposed;
            }
            else
            {
                composed[n++] = c;
            }
        }

        return composed.AsSpan(0, n);
    }

    /// <summary>Date of birth as YYYYMMDD from YYYYMMDD, YYYY-MM-DD, M/D/YYYY (US order, as Meta's example) or D.M.YYYY.</summary>
    public static string? DateOfBirth(string? raw, DateTimeOffset now)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return null;
        }

        if (Sha256Hex.IsHash(s))
        {
            return Sha256Hex.PassThrough(s);
        }

        int year, month, day;
        if (s.Length == 8 && !s.ContainsAnyExceptInRange('0', '9'))
        {
            year = int.Parse(s[..4]);
            month = int.Parse(s[4..6]);
            day = int.Parse(s[6..]);
        }
        else if (TrySplit3(s, out var a, out var b, out var c, out var separator))
        {
            (year, month, day) = separator switch
            {
                '-' when a > 31 => (a, b, c),
                '/' when a > 31 => (a, b, c),
                '/' => (c, a, b),
                '.' => (c, b, a),
                '-' => (c, b, a),
                _ => (0, 0, 0),
            };
        }
        else
        {
            return null;
        }

        if (year < 1900 || year > now.Year || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return null;
        }

        Span<char> text = stackalloc char[8];
        year.TryFormat(text, out _, "D4");
        month.TryFormat(text[4..], out _, "D2");
        day.TryFormat(text[6..], out _, "D2");
        return Sha256Hex.Hash(text);
    }

    /// <summary>Gender as "f" or "m" (female/male/f/m in any case), hashed.</summary>
    public static string? Gender(string? raw)
    {
        var s = raw.AsSpan().Trim();
        if (Sha256Hex.IsHash(s))
        {
            return Sha256Hex.PassThrough(s);
        }

        return s.IsEmpty ? null
            : s.Equals("f", StringComparison.OrdinalIgnoreCase) || s.Equals("female", StringComparison.OrdinalIgnoreCase) ? Sha256Hex.Hash("f")
            : s.Equals("m", StringComparison.OrdinalIgnoreCase) || s.Equals("male", StringComparison.OrdinalIgnoreCase) ? Sha256Hex.Hash("m")
            : null;
    }

    /// <summary>External id: trim, lower case (as the SDKs do), hashed.</summary>
    public static string? ExternalId(string? raw)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return null;
        }

        return Sha256Hex.IsHash(s) ? Sha256Hex.PassThrough(s) : HashFiltered(s, static _ => true);
    }

    /// <summary>City: lower case, letters only ("New York" becomes "newyork"). Plain; a digest passes through.</summary>
    public static string? City(string? raw) => Plain(raw, static c => char.IsLetter(c));

    /// <summary>State: US names become their two-letter code; otherwise lower case letters only. Plain.</summary>
    public static string? State(string? raw, string? country)
    {
        var letters = Plain(raw, static c => char.IsLetter(c));
        if (letters is null || letters.Length == 64)
        {
            return letters;
        }

        return (country is null or "us") && CountryData.UsStateCode(letters) is { } code ? code : letters;
    }

    /// <summary>Postal code: lower case, no blanks or dashes; US codes cut to the first five digits. Plain.</summary>
    public static string? Zip(string? raw, string? country)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return null;
        }

        if (Sha256Hex.IsHash(s))
        {
            return Sha256Hex.PassThrough(s);
        }

        var usShape = s.Length >= 5 && !s[..5].ContainsAnyExceptInRange('0', '9') && (s.Length == 5 || s[5] == '-' || s[5] == ' ');
        if (usShape && country is null or "us")
        {
            return s[..5].ToString();
        }

        var compact = Plain(raw, static c => c != '-' && !char.IsWhiteSpace(c));
        return compact;
    }

    /// <summary>Country: ISO 3166-1 alpha-2 in lower case, from a code or an English name ("United States" becomes "us"). Plain.</summary>
    public static string? Country(string? raw)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return null;
        }

        if (Sha256Hex.IsHash(s))
        {
            return Sha256Hex.PassThrough(s);
        }

        if (s.Length == 2 && char.IsAsciiLetter(s[0]) && char.IsAsciiLetter(s[1]))
        {
            return string.Create(2, s, static (dest, src) => src.ToLowerInvariant(dest));
        }

        return CountryData.CodeOfName(s);
    }

    private static string? Plain(string? raw, Func<char, bool> keep)
    {
        var s = raw.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return null;
        }

        if (Sha256Hex.IsHash(s))
        {
            return Sha256Hex.PassThrough(s);
        }

        Span<char> buffer = stackalloc char[Math.Min(s.Length, StackLimit)];
        var n = 0;
        foreach (var c in s)
        {
            if (n < buffer.Length && keep(c))
            {
                buffer[n++] = char.ToLowerInvariant(c);
            }
        }

        return n == 0 ? null : new string(buffer[..n]);
    }

    private static string? HashFiltered(ReadOnlySpan<char> s, Func<char, bool> keep)
    {
        char[]? rented = null;
        var buffer = s.Length <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(s.Length));
        try
        {
            var n = 0;
            foreach (var c in s)
            {
                if (keep(c))
                {
                    buffer[n++] = char.ToLowerInvariant(c);
                }
            }

            var value = buffer[..n].Trim(' ');
            return value.IsEmpty ? null : Sha256Hex.Hash(value);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static bool TrySplit3(ReadOnlySpan<char> s, out int a, out int b, out int c, out char separator)
    {
        a = b = c = 0;
        separator = s.IndexOfAny('/', '-', '.') is int i and >= 0 ? s[i] : '\0';
        if (separator == '\0')
        {
            return false;
        }

        Span<Range> parts = stackalloc Range[4];
        return s.Split(parts, separator) == 3
            && int.TryParse(s[parts[0]], out a) && int.TryParse(s[parts[1]], out b) && int.TryParse(s[parts[2]], out c);
    }
}
