using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using TagGateway.Capi.Identity;
using TagGateway.Capi.Model;
using TagGateway.Consent.Signals;
using TagGateway.Consent.Wire;

namespace TagGateway.Capi.Mapping;

/// <summary>One event of a GA4 hit, decoded: the body line's parameters merged over the URL's (ga4-hits-and-consent.md §1-2).</summary>
internal sealed class DecodedEvent
{
    public string Name { get; set; } = string.Empty;

    public string EventId { get; set; } = string.Empty;

    public string? TagId { get; set; }

    public string? ClientId { get; set; }

    public string? PageUrl { get; set; }

    public string? Referrer { get; set; }

    public string? TransactionId { get; set; }

    public string? Currency { get; set; }

    public decimal? Value { get; set; }

    public List<CapiItem>? Items { get; set; }

    public ConsentSignals Signals { get; set; }

    public UserInput User { get; set; } = new();
}

/// <summary>
/// Splits a forwarded /g/collect hit into its events and decodes what the conversion APIs need: event name, ep./epn.
/// parameters, items (pr1…), currency, value, transaction id, page URL, cid, gtag user data (em), and the consent
/// signals of each event. Runs on the pipeline's thread, after the hit went upstream.
/// </summary>
internal static class Ga4HitDecoder
{
    public static void Decode(MeasurementHit hit, List<DecodedEvent> output)
    {
        ArgumentNullException.ThrowIfNull(hit);
        var url = new Dictionary<string, string>(StringComparer.Ordinal);
        ParseForm(hit.Query, url);
        var urlSignals = ConsentSignals.FromQuery(hit.Query, hit.GlobalPrivacyControl);
        var cookies = new CookieJar(hit.CookieHeader);

        if (hit.Body.IsEmpty)
        {
            AddEvent(hit, url, urlSignals, cookies, 0, output);
            return;
        }

        var index = 0;
        foreach (var line in HitBody.EnumerateLines(hit.Body.Span))
        {
            var merged = new Dictionary<string, string>(url, StringComparer.Ordinal);
            ParseForm(Encoding.UTF8.GetString(line), merged);
            AddEvent(hit, merged, urlSignals.WithOverrides(line), cookies, index++, output);
        }
    }

    private static void AddEvent(MeasurementHit hit, Dictionary<string, string> p, ConsentSignals signals, in CookieJar cookies, int index, List<DecodedEvent> output)
    {
        if (!p.TryGetValue("en", out var name) || name.Length == 0)
        {
            return;
        }

        var e = new DecodedEvent
        {
            Name = name,
            TagId = Get(p, "tid"),
            ClientId = Get(p, "cid"),
            PageUrl = Get(p, "dl"),
            Referrer = Get(p, "dr"),
            TransactionId = Get(p, "ep.transaction_id"),
            Currency = Get(p, "cu") ?? Get(p, "ep.currency"),
            Value = Number(Get(p, "epn.value") ?? Get(p, "ep.value")),
            Items = Items(p),
            Signals = signals,
        };

        e.EventId = Get(p, "ep.event_id")
            ?? (name == "purchase" ? e.TransactionId : null)
            ?? DeriveEventId(e.ClientId, Get(p, "_p"), Get(p, "_s"), name, index);

        var user = e.User;
        user.Ip = hit.ClientIp;
        user.UserAgent = hit.UserAgent;
        user.Fbp = cookies.Fbp;
        user.Fbc = cookies.Fbc;
        user.Ttp = cookies.Ttp;
        user.Ttclid = cookies.Ttclid;
        user.LiFatId = cookies.LiFatId;
        user.Gclid = ClickIds.GclidFromCookie(cookies.GclAw);
        user.ExternalId = Get(p, "uid");
        if (e.PageUrl is not null)
        {
            ReadUrlClickIds(e.PageUrl, user);
        }

        if (Get(p, "em") is { } em)
        {
            ReadGtagUserData(em, user);
        }

        output.Add(e);
    }

    /// <summary>
    /// The id for an event the site gave none: a function of (client id, page-load id, hit sequence, event name, position
    /// in the batch), so the same hit retried or replayed maps to the same id.
    /// </summary>
    internal static string DeriveEventId(string? clientId, string? pageLoad, string? hitSequence, string name, int index)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{clientId}|{pageLoad}|{hitSequence}|{name}|{index}");
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return "tg." + Convert.ToHexStringLower(digest[..12]);
    }

    /// <summary>Click ids on the landing URL win over cookies (they are the newer click); values are taken raw, never decoded twice.</summary>
    private static void ReadUrlClickIds(string pageUrl, UserInput user)
    {
        var q = pageUrl.IndexOf('?', StringComparison.Ordinal);
        if (q < 0)
        {
            return;
        }

        var query = pageUrl.AsSpan(q + 1);
        var hash = query.IndexOf('#');
        if (hash >= 0)
        {
            query = query[..hash];
        }

        foreach (var pair in new QueryPairs<char>(query))
        {
            if (pair.Name.IsEmpty || pair.Value.IsEmpty)
            {
                continue;
            }

            var value = pair.Value.ToString();
            switch (pair.Name)
            {
                case "fbclid":
                    user.Fbclid = value;
                    break;
                case "ttclid":
                    user.Ttclid = value;
                    break;
                case "li_fat_id":
                    user.LiFatId = value;
                    break;
                case "gclid":
                    user.Gclid = value;
                    break;
                case "gbraid":
                    user.Gbraid = value;
                    break;
                case "wbraid":
                    user.Wbraid = value;
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary><c>tv.1~em.&lt;hash&gt;~pn.&lt;hash&gt;~fn0.&lt;hash&gt;~ln0.&lt;hash&gt;~pc0.&lt;plain&gt;~co0.&lt;plain&gt;</c>; other versions are ignored.</summary>
    private static void ReadGtagUserData(string em, UserInput user)
    {
        if (!em.StartsWith("tv.1~", StringComparison.Ordinal))
        {
            return;
        }

        foreach (var range in em.AsSpan().Split('~'))
        {
            var token = em.AsSpan()[range];
            var dot = token.IndexOf('.');
            if (dot <= 0)
            {
                continue;
            }

            var key = token[..dot];
            var value = token[(dot + 1)..];
            switch (key)
            {
                case "em":
                    user.EmailHash ??= Sha256Hex.FromGtag(value);
                    break;
                case "pn":
                    user.PhoneE164Hash ??= Sha256Hex.FromGtag(value);
                    break;
                case "fn0":
                    user.FirstName ??= Sha256Hex.FromGtag(value);
                    break;
                case "ln0":
                    user.LastName ??= Sha256Hex.FromGtag(value);
                    break;
                case "pc0":
                    user.Zip ??= value.ToString();
                    break;
                case "co0":
                    user.Country ??= value.ToString();
                    break;
                default:
                    break;
            }
        }
    }

    private static List<CapiItem>? Items(Dictionary<string, string> p)
    {
        List<CapiItem>? items = null;
        for (var i = 1; i <= 200; i++)
        {
            if (!p.TryGetValue(string.Create(CultureInfo.InvariantCulture, $"pr{i}"), out var value))
            {
                break;
            }

            var item = new CapiItem();
            foreach (var range in value.AsSpan().Split('~'))
            {
                var token = value.AsSpan()[range];
                if (token.Length < 3)
                {
                    continue;
                }

                var rest = token[2..].ToString();
                switch (token[..2])
                {
                    case "id":
                        item.Id = rest;
                        break;
                    case "nm":
                        item.Name = rest;
                        break;
                    case "pr":
                        item.Price = Number(rest);
                        break;
                    case "qt":
                        item.Quantity = int.TryParse(rest, NumberStyles.Integer, CultureInfo.InvariantCulture, out var q) ? q : null;
                        break;
                    default:
                        break;
                }
            }

            (items ??= []).Add(item);
        }

        return items;
    }

    private static decimal? Number(string? text) =>
        decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? Get(Dictionary<string, string> p, string name) =>
        p.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>Form-decodes "a=1&amp;b=2" into <paramref name="into"/>; later values replace earlier ones (a body line overrides the URL).</summary>
    internal static void ParseForm(string query, Dictionary<string, string> into)
    {
        foreach (var pair in new QueryPairs<char>(query))
        {
            into[Decode(pair.Name)] = Decode(pair.Value);
        }
    }

    private static string Decode(ReadOnlySpan<char> raw) =>
        raw.ContainsAny('%', '+') ? WebUtility.UrlDecode(raw.ToString()) : raw.ToString();
}
