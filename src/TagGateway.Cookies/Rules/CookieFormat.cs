using System.Buffers;

namespace TagGateway.Cookies.Rules;

/// <summary>The value shapes identifier cookies take; a value that does not fit is never echoed.</summary>
public enum CookieFormat
{
    /// <summary>Any cookie-octet value (RFC 6265): no control characters, whitespace, quote, comma, semicolon or backslash.</summary>
    Opaque,

    /// <summary><c>_ga</c>: <c>GA1.&lt;level&gt;.&lt;random&gt;.&lt;seconds&gt;</c>.</summary>
    GoogleAnalyticsClient,

    /// <summary><c>_ga_&lt;container&gt;</c>: <c>GS1.1.…</c> (dot-positional) or <c>GS2.1.…</c> (<c>$</c>-tokens).</summary>
    GoogleAnalyticsSession,

    /// <summary><c>_gcl_aw</c>, <c>_gcl_dc</c>, <c>_gcl_gb</c>: <c>GCL.&lt;seconds&gt;.&lt;click id&gt;</c>.</summary>
    GoogleClick,

    /// <summary><c>_gcl_au</c>: <c>1.1.&lt;random&gt;.&lt;seconds&gt;</c>.</summary>
    GoogleAdsUser,

    /// <summary><c>_fbp</c>: <c>fb.&lt;index&gt;.&lt;ms&gt;.&lt;random&gt;</c>.</summary>
    MetaBrowser,

    /// <summary><c>_fbc</c>: <c>fb.&lt;index&gt;.&lt;ms&gt;.&lt;fbclid&gt;</c>, optionally a fifth segment.</summary>
    MetaClick,

    /// <summary>Click IDs and similar tokens: letters, digits, <c>-</c>, <c>_</c>, <c>.</c>.</summary>
    Token,
}

/// <summary>Format checks, allocation-free. Anything that could inject an attribute or a header fails them.</summary>
public static class CookieFormats
{
    public const int MaxValueLength = 512;

    // RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
    private static readonly SearchValues<char> CookieOctets = SearchValues.Create(
        "!#$%&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private static readonly SearchValues<char> TokenChars = SearchValues.Create(
        "-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly SearchValues<char> SessionChars = SearchValues.Create(
        "$-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static bool IsValid(CookieFormat format, ReadOnlySpan<char> value)
    {
        if (value.IsEmpty || value.Length > MaxValueLength || value.ContainsAnyExcept(CookieOctets))
        {
            return false;
        }

        return format switch
        {
            CookieFormat.Opaque => true,
            CookieFormat.Token => IsToken(value),
            CookieFormat.GoogleAnalyticsClient => Dotted(value, "GA1.", 3) && AllDigitsAfterPrefix(value, "GA1."),
            CookieFormat.GoogleAnalyticsSession => (value.StartsWith("GS1.", StringComparison.Ordinal) || value.StartsWith("GS2.", StringComparison.Ordinal)) && !value.ContainsAnyExcept(SessionChars),
            CookieFormat.GoogleClick => Dotted(value, "GCL.", 2) && IsToken(value),
            CookieFormat.GoogleAdsUser => Dotted(value, "1.", 3) && AllDigitsAfterPrefix(value, string.Empty),
            CookieFormat.MetaBrowser => Dotted(value, "fb.", 3) && AllDigitsAfterPrefix(value, "fb."),
            CookieFormat.MetaClick => Dotted(value, "fb.", 3) && IsToken(value),
            _ => false,
        };
    }

    /// <summary>When an identifier was first created, for formats that record it (_ga: seconds, last part; _fbp: ms, third part).</summary>
    public static bool TryGetCreated(CookieFormat format, ReadOnlySpan<char> value, out long created)
    {
        created = 0;
        var index = format switch
        {
            CookieFormat.GoogleAnalyticsClient => 3,
            CookieFormat.MetaBrowser => 2,
            _ => -1,
        };

        var i = 0;
        foreach (var range in value.Split('.'))
        {
            if (i++ == index)
            {
                return long.TryParse(value[range], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out created);
            }
        }

        return false;
    }

    public static bool IsToken(ReadOnlySpan<char> value) =>
        !value.IsEmpty && value.Length <= MaxValueLength && !value.ContainsAnyExcept(TokenChars);

    /// <summary>Starts with <paramref name="prefix"/> and has at least <paramref name="minDots"/> more non-empty dot-separated parts.</summary>
    private static bool Dotted(ReadOnlySpan<char> value, string prefix, int minParts)
    {
        if (!value.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = 0;
        foreach (var range in value[prefix.Length..].Split('.'))
        {
            if (range.End.Value == range.Start.Value)
            {
                return false;
            }

            parts++;
        }

        return parts >= minParts;
    }

    private static bool AllDigitsAfterPrefix(ReadOnlySpan<char> value, string prefix)
    {
        foreach (var c in value[prefix.Length..])
        {
            if (c != '.' && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
