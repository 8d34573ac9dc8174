namespace TagGateway.Capi.GapFill;

/// <summary>
/// Google Analytics' client_id for a backend event. The <c>_ga</c> cookie is <c>GA1.&lt;domain depth&gt;.&lt;random&gt;.&lt;first
/// visit&gt;</c> and gtag sends its last two parts as <c>cid</c> (ga4-hits-and-consent.md §1), so the same visitor maps to
/// the same client id whichever way the site passes it.
/// </summary>
internal static class GaClientIds
{
    public static string? Resolve(string? clientId, string? gaCookie, string? fpid)
    {
        if (clientId is not null)
        {
            return clientId;
        }

        if (gaCookie is not null && FromGaCookie(gaCookie) is { } fromCookie)
        {
            return fromCookie;
        }

        return fpid;
    }

    /// <summary>"GA1.1.111.222" → "111.222"; a bare "111.222" passes; anything else is null.</summary>
    public static string? FromGaCookie(string value)
    {
        var v = value.AsSpan().Trim();
        if (v.StartsWith("GA", StringComparison.Ordinal))
        {
            var first = v.IndexOf('.');
            var second = first < 0 ? -1 : v[(first + 1)..].IndexOf('.');
            if (second < 0)
            {
                return null;
            }

            v = v[(first + second + 2)..];
        }

        var dot = v.IndexOf('.');
        return dot > 0 && dot < v.Length - 1 && IsDigits(v[..dot]) && IsDigits(v[(dot + 1)..]) ? v.ToString() : null;
    }

    private static bool IsDigits(ReadOnlySpan<char> s) => !s.IsEmpty && !s.ContainsAnyExceptInRange('0', '9');
}
