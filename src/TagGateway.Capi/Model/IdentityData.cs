namespace TagGateway.Capi.Model;

/// <summary>
/// Who the event is about. Direct identifiers are stored only as SHA-256 hex (64 lower-case characters), already
/// normalised; the variants exist because the platforms disagree (Google's gmail rule, phone with or without '+').
/// City, state, zip and country are kept normalised but plain (hashed per platform when sent). Cookies, click ids, IP
/// and user agent are never hashed.
/// </summary>
internal sealed class IdentityData
{
    /// <summary>Email: trim + lower case (Meta, TikTok, LinkedIn).</summary>
    public string? Em { get; set; }

    /// <summary>Email under Google's rules (inner blanks removed; gmail.com/googlemail.com: no dots, no +suffix).</summary>
    public string? EmGoogle { get; set; }

    /// <summary>Phone: digits with country code, no '+' (Meta).</summary>
    public string? Ph { get; set; }

    /// <summary>Phone: E.164 with '+' (Google, TikTok).</summary>
    public string? PhE164 { get; set; }

    public string? Fn { get; set; }

    public string? Ln { get; set; }

    public string? Db { get; set; }

    public string? Ge { get; set; }

    public string? ExternalId { get; set; }

    /// <summary>City, lower case, letters only (plain; hashed for Meta).</summary>
    public string? City { get; set; }

    public string? State { get; set; }

    /// <summary>Postal code, lower case without blanks or dashes; US: first five digits.</summary>
    public string? Zip { get; set; }

    /// <summary>ISO 3166-1 alpha-2, lower case.</summary>
    public string? Country { get; set; }

    public string? Fbp { get; set; }

    public string? Fbc { get; set; }

    public string? Ttp { get; set; }

    public string? Ttclid { get; set; }

    public string? LiFatId { get; set; }

    public string? Gclid { get; set; }

    public string? Gbraid { get; set; }

    public string? Wbraid { get; set; }

    public string? Ip { get; set; }

    public string? UserAgent { get; set; }

    /// <summary>Fills what this lacks from <paramref name="other"/>; what this already has wins (the first report is kept, as Meta does).</summary>
    public bool MergeFrom(IdentityData other)
    {
        var changed = false;
        Em = Take(Em, other.Em, ref changed);
        EmGoogle = Take(EmGoogle, other.EmGoogle, ref changed);
        Ph = Take(Ph, other.Ph, ref changed);
        PhE164 = Take(PhE164, other.PhE164, ref changed);
        Fn = Take(Fn, other.Fn, ref changed);
        Ln = Take(Ln, other.Ln, ref changed);
        Db = Take(Db, other.Db, ref changed);
        Ge = Take(Ge, other.Ge, ref changed);
        ExternalId = Take(ExternalId, other.ExternalId, ref changed);
        City = Take(City, other.City, ref changed);
        State = Take(State, other.State, ref changed);
        Zip = Take(Zip, other.Zip, ref changed);
        Country = Take(Country, other.Country, ref changed);
        Fbp = Take(Fbp, other.Fbp, ref changed);
        Fbc = Take(Fbc, other.Fbc, ref changed);
        Ttp = Take(Ttp, other.Ttp, ref changed);
        Ttclid = Take(Ttclid, other.Ttclid, ref changed);
        LiFatId = Take(LiFatId, other.LiFatId, ref changed);
        Gclid = Take(Gclid, other.Gclid, ref changed);
        Gbraid = Take(Gbraid, other.Gbraid, ref changed);
        Wbraid = Take(Wbraid, other.Wbraid, ref changed);
        Ip = Take(Ip, other.Ip, ref changed);
        UserAgent = Take(UserAgent, other.UserAgent, ref changed);
        return changed;
    }

    private static string? Take(string? mine, string? theirs, ref bool changed)
    {
        if (mine is null && theirs is not null)
        {
            changed = true;
            return theirs;
        }

        return mine;
    }
}
