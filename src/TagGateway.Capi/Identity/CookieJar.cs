using TagGateway.Consent.Wire;

namespace TagGateway.Capi.Identity;

/// <summary>The advertising cookies of one Cookie header: read once per hit (through the shared <see cref="CookiePairs"/>), by name, without decoding the others.</summary>
internal readonly struct CookieJar
{
    public CookieJar(string? header)
    {
        Fbp = Fbc = Ttp = Ttclid = LiFatId = GclAw = null;
        if (string.IsNullOrEmpty(header))
        {
            return;
        }

        // The shared walker trims and unquotes; a cookie without a value carries nothing to send.
        foreach (var pair in CookiePairs.Enumerate(header))
        {
            var value = pair.Value;
            if (value.IsEmpty)
            {
                continue;
            }

            switch (pair.Name)
            {
                case "_fbp":
                    Fbp ??= value.ToString();
                    break;
                case "_fbc":
                    Fbc ??= value.ToString();
                    break;
                case "_ttp":
                    Ttp ??= value.ToString();
                    break;
                case "ttclid":
                    Ttclid ??= value.ToString();
                    break;
                case "li_fat_id":
                    LiFatId ??= value.ToString();
                    break;
                case "_gcl_aw":
                    GclAw ??= value.ToString();
                    break;
                default:
                    break;
            }
        }
    }

    public string? Fbp { get; }

    public string? Fbc { get; }

    public string? Ttp { get; }

    public string? Ttclid { get; }

    public string? LiFatId { get; }

    public string? GclAw { get; }
}

/// <summary>Click-id formats (ga4-hits-and-consent.md §6).</summary>
internal static class ClickIds
{
    /// <summary>The gclid of a <c>GCL.&lt;unix s&gt;.&lt;gclid&gt;</c> cookie, or null.</summary>
    public static string? GclidFromCookie(string? gclAw)
    {
        if (gclAw is null || !gclAw.StartsWith("GCL.", StringComparison.Ordinal))
        {
            return null;
        }

        var dot = gclAw.IndexOf('.', 4);
        return dot > 4 && dot < gclAw.Length - 1 ? gclAw[(dot + 1)..] : null;
    }

    /// <summary>The fbclid inside an <c>_fbc</c> value (<c>fb.&lt;i&gt;.&lt;ms&gt;.&lt;fbclid&gt;[.&lt;suffix&gt;]</c>).</summary>
    public static ReadOnlySpan<char> FbclidOf(string fbc)
    {
        ReadOnlySpan<char> s = fbc;
        for (var i = 0; i < 3; i++)
        {
            var dot = s.IndexOf('.');
            if (dot < 0)
            {
                return default;
            }

            s = s[(dot + 1)..];
        }

        // A Parameter Builder suffix may follow the click id; fbclid values themselves contain no dot.
        var end = s.IndexOf('.');
        return end < 0 ? s : s[..end];
    }

    /// <summary>
    /// The fbc to send: the cookie's, unless the page URL carries an fbclid that differs from it, in which case a new one
    /// is built as Meta specifies: <c>fb.1.&lt;ms first seen&gt;.&lt;fbclid&gt;</c>, the click id untouched.
    /// </summary>
    public static string? Fbc(string? cookie, string? fbclid, long seenMs)
    {
        if (string.IsNullOrEmpty(fbclid))
        {
            return cookie;
        }

        if (cookie is not null && FbclidOf(cookie).SequenceEqual(fbclid))
        {
            return cookie;
        }

        return $"fb.1.{seenMs}.{fbclid}";
    }
}
