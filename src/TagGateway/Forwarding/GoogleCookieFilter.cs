using System.Buffers;
using TagGateway.Consent.Wire;

namespace TagGateway.Forwarding;

/// <summary>
/// Keeps only Google's first-party cookies (<c>_ga*</c>, <c>_gid</c>, <c>_gcl*</c>, <c>FP</c> + upper-case letter) in a
/// Cookie header. The site's session, login and other vendors' cookies never reach Google.
/// </summary>
internal static class GoogleCookieFilter
{
    /// <summary>The filtered header: the same instance when every cookie is Google's, null when none is.</summary>
    public static string? Filter(string cookieHeader)
    {
        ArgumentNullException.ThrowIfNull(cookieHeader);
        var header = cookieHeader.AsSpan();
        var kept = 0;
        var dropped = 0;
        var cookies = CookiePairs.Enumerate(header);
        while (cookies.MoveNext())
        {
            if (IsGoogleCookie(cookies.Name))
            {
                kept++;
            }
            else
            {
                dropped++;
            }
        }

        // A bare token (no name) is nobody's cookie: dropped like any other that is not Google's.
        dropped += cookies.Skipped;
        if (kept == 0)
        {
            return null;
        }

        if (dropped == 0)
        {
            return cookieHeader;
        }

        // Rebuild from the kept pairs; rare enough (mixed cookie jars) that one pooled buffer is fine.
        var buffer = ArrayPool<char>.Shared.Rent(header.Length * 2); // "; " may replace a bare ";"
        try
        {
            var length = 0;
            foreach (var cookie in CookiePairs.Enumerate(header))
            {
                if (!IsGoogleCookie(cookie.Name))
                {
                    continue;
                }

                var pair = cookie.Pair;
                if (length > 0)
                {
                    buffer[length++] = ';';
                    buffer[length++] = ' ';
                }

                pair.CopyTo(buffer.AsSpan(length));
                length += pair.Length;
            }

            return new string(buffer, 0, length);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    public static bool IsGoogleCookie(ReadOnlySpan<char> name) =>
        name.StartsWith("_ga", StringComparison.Ordinal)
        || name.StartsWith("_gcl", StringComparison.Ordinal)
        || name is "_gid"
        || (name.Length > 2 && name[0] == 'F' && name[1] == 'P' && char.IsAsciiLetterUpper(name[2]));
}
