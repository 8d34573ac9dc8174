using System.Text;

namespace TagGateway.Tests.Hostile;

/// <summary>What a hostile case may end in.</summary>
public enum Expect
{
    /// <summary>A 4xx (or a closed connection with no answer); nothing of it reaches the upstream.</summary>
    Refused,

    /// <summary>Hostile but legal HTTP (a spoofed header, an odd Host): may be forwarded, but only sanitised.</summary>
    Tolerated,
}

/// <summary>
/// One raw request (or several pipelined on one connection). <see cref="Marker"/> is written into every hostile
/// part and must never come back in a response or reach the upstream; <c>tgcase=&lt;id&gt;</c> in a hit's query
/// says which case a request the upstream saw belongs to.
/// </summary>
public sealed record HostileCase(int Id, string Class, string Name, byte[] Request, Expect Expect, int Responses = 1, bool MarkerMayReachUpstream = false)
{
    public string Marker => HostileCases.MarkerOf(Id);

    public override string ToString() => $"#{Id} {Class}/{Name}";
}

/// <summary>
/// Generates the hostile-input campaign of issue #17 as data. The classes follow the issue's list; every case is
/// built from the same few templates so a new trick is one line.
/// </summary>
public static class HostileCases
{
    public const string SiteHost = "shop.example";
    public const string SpoofedIp = "198.18.0.66";
    public const string Granted = "gcs=G111&gcd=13v3v3v3v5";
    public const string GoodGa = "_ga=GA1.1.1162820436.1749482504";

    public static string MarkerOf(int id) => $"tgevil{id}x";

    private static readonly string[] HitPaths = ["/metrics/g/collect", "/metrics/ag/g/c", "/metrics/ccm/collect", "/metrics/gs/ccm/collect"];
    private static readonly string[] ScriptPaths = ["/metrics/gtag/js", "/metrics/gtm.js", "/metrics/gtag/destination", "/metrics/ns.html", "/metrics"];

    /// <summary>
    /// Script loads whose ID parameter is repeated, case-variant, percent-encoded or bracketed: 400 once the
    /// scripts helper's change (issue #17.3, branch h-scripts) is merged; on this branch they still reach the upstream.
    /// </summary>
    public static IReadOnlyList<HostileCase> NeedsScripts()
    {
        var b = new Builder(100_000);
        foreach (var path in ScriptPaths)
        {
            foreach (var query in new[] { "id=G-TEST1234&id=GTM-EVIL99", "id=G-TEST1234&ID=GTM-EVIL99", "id=G-TEST1234&%69d=GTM-EVIL99", "id=G-TEST1234&id[]=GTM-EVIL99", "id=G-TEST1234&Id=GTM-EVIL99", "%69d=GTM-EVIL99&id=G-TEST1234", "id[]=GTM-EVIL99&id=G-TEST1234" })
            {
                b.Add("id-injection-script", query, id => Request("GET", $"{path}?{query}&tgcase={id}"), Expect.Refused);
            }
        }

        return b.Cases;
    }

    /// <param name="presentedSecret">The edge secret a spoofing client sends (right or wrong, per setup).</param>
    public static IReadOnlyList<HostileCase> All(string presentedSecret)
    {
        var b = new Builder(1);
        Traversal(b);
        AbsoluteForm(b);
        AuthorityAndAsterisk(b);
        HostTricks(b);
        IdInjection(b);
        CrlfAndHeaderInjection(b);
        Oversize(b);
        ChunkedAndSmuggling(b);
        Versions(b);
        Pipelining(b);
        NonUtf8(b);
        Methods(b);
        SpoofedEdge(b, presentedSecret);
        return b.Cases;
    }

    public static string Hit(int id, string path = "/metrics/g/collect", string extra = "") =>
        $"{path}?v=2&tid=G-TEST1234&{Granted}&en=page_view&tgcase={id}{extra}";

    /// <summary>A whole HTTP/1.1 request; the default headers come first so a case can add or repeat any.</summary>
    public static string Request(string method, string target, string headers = "", string body = "", string host = SiteHost, bool close = true, string version = "HTTP/1.1")
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(' ').Append(version).Append("\r\n");
        if (host is not null)
        {
            head.Append("Host: ").Append(host).Append("\r\n");
        }

        head.Append(headers);
        if (method is "POST" or "PUT" or "PATCH" && !headers.Contains("Content-Length", StringComparison.OrdinalIgnoreCase) && !headers.Contains("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
        {
            head.Append("Content-Length: ").Append(Encoding.Latin1.GetByteCount(body)).Append("\r\n");
        }

        if (close)
        {
            head.Append("Connection: close\r\n");
        }

        return head.Append("\r\n").Append(body).ToString();
    }

    private static void Traversal(Builder b)
    {
        foreach (var form in TraversalForms.NewlyRefused.Concat(TraversalForms.AlreadyRefused))
        {
            foreach (var method in new[] { "GET", "POST", "HEAD" })
            {
                b.Add("traversal", $"{method} {form}", id => Utf8Request(method, Hit(id, "/metrics" + form.Replace("admin", MarkerOf(id), StringComparison.Ordinal))), Expect.Refused);
            }

            b.Add("traversal", $"script {form}", id => Utf8Request("GET", $"/metrics{form}?id=G-TEST1234&tgcase={id}"), Expect.Refused);
        }

        // The measurement path itself disguised: not ours (404), never forwarded.
        foreach (var prefix in new[] { "/%6detrics/g/collect", "/metrics%2fg/collect", "/METRICS/g/collect", "/metrics./g/collect", "/metrics;/g/collect", "/x/../metrics/g/collect", "/./metrics/g/collect" })
        {
            b.Add("traversal", $"prefix {prefix}", id => Request("GET", Hit(id, prefix)), Expect.Refused);
        }
    }

    private static string Utf8Request(string method, string target) => Request(method, target);

    private static void AbsoluteForm(Builder b)
    {
        string[] targets =
        [
            "http://{m}.example/metrics/g/collect", "https://{m}.example/metrics/g/collect", "HTTP://{m}.example/metrics/g/collect",
            "http://shop.example/metrics/g/collect", "http://127.0.0.1:9090/healthz", "http://[::1]/metrics/g/collect",
            "http://user:pass@{m}.example/metrics/g/collect", "//{m}.example/metrics/g/collect", "ftp://{m}.example/metrics/g/collect",
            "http:/metrics/g/collect", "http://{m}.example:80@shop.example/metrics/g/collect", "http://shop.example@{m}.example/metrics/g/collect",
        ];
        foreach (var target in targets)
        {
            foreach (var method in new[] { "GET", "POST", "HEAD" })
            {
                b.Add("absolute-form", $"{method} {target}", id => Request(method, Hit(id, target.Replace("{m}", MarkerOf(id), StringComparison.Ordinal))), Expect.Refused);
            }
        }
    }

    private static void AuthorityAndAsterisk(Builder b)
    {
        foreach (var line in new[] { "CONNECT {m}.example:443", "CONNECT shop.example:443", "CONNECT 127.0.0.1:9090", "CONNECT [::1]:80", "OPTIONS *", "GET *", "POST *", "GET {m}.example:80", "GET shop.example:443/metrics/g/collect", "CONNECT /metrics/g/collect" })
        {
            b.Add("authority-asterisk", line, id =>
            {
                var parts = line.Replace("{m}", MarkerOf(id), StringComparison.Ordinal).Split(' ');
                return Request(parts[0], parts[1], headers: $"X-Case: tgcase={id}\r\n");
            }, Expect.Refused);
        }
    }

    private static void HostTricks(Builder b)
    {
        // Hosts Kestrel accepts are forwarded (the Host chooses nothing upstream), but must not reach the upstream
        // nor name the cookie domain; the rest are refused by Kestrel.
        string[] hosts =
        [
            "shop.example:8080", "shop.example:99999", "[::1]", "[::1]:8080", "127.0.0.1", "localhost", "co.uk", "example", "shop.example.",
            "SHOP.EXAMPLE", "{m}.example", "shop.example.{m}.example", "{m}shop.example", "www.{m}.co.uk", "user@{m}.example", "shop example",
            "shop.example/{m}", "shop.example?{m}", "shop.example#{m}", "%73hop.{m}.example", "sh\u00f6p.{m}.example", "{m}.example\rX: y", "",
            new string('a', 300) + ".{m}.example", "[{m}]", "shop.example:{m}", "*.{m}.example", "{m}..example", ".{m}.example",
        ];
        foreach (var host in hosts)
        {
            foreach (var (method, path) in new[] { ("GET", "/metrics/g/collect"), ("POST", "/metrics/ag/g/c") })
            {
                b.Add("host", $"{method} Host: {host}", id => Request(method, Hit(id, path), headers: $"Cookie: {GoodGa}\r\n", host: host.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)), Expect.Tolerated);
            }
        }

        b.Add("host", "missing", id => Request("GET", Hit(id), host: null!), Expect.Tolerated);
        b.Add("host", "duplicate same", id => Request("GET", Hit(id), headers: $"Host: {SiteHost}\r\nCookie: {GoodGa}\r\n"), Expect.Tolerated);
        b.Add("host", "duplicate hostile", id => Request("GET", Hit(id), headers: $"Host: {MarkerOf(id)}.example\r\nCookie: {GoodGa}\r\n"), Expect.Tolerated);
        b.Add("host", "absolute form with hostile Host", id => Request("GET", "http://shop.example" + Hit(id), host: MarkerOf(id) + ".example"), Expect.Refused);
        b.Add("host", "HTTP/1.0 without Host", id => Request("GET", Hit(id), headers: $"Cookie: {GoodGa}\r\n", host: null!, version: "HTTP/1.0"), Expect.Tolerated);
    }

    private static void IdInjection(Builder b)
    {
        string[] malformed =
        [
            "G-evil", "g-test1234", "G-TEST1234%0d%0aX-Evil:{m}", "{m}.example", "G-", "G-ABC", "G-ABCDEFGHIJKLMNOPQ", "G-TEST1234/../x",
            "%47-TEST1234", "UA-1234-1", "G-TEST1234%00", "", "G-TEST+1234", "G-TEST1234%20", "AW-", "GTM-%3Cscript%3E", "G-TEST1234;{m}", "G-{m}",
        ];
        foreach (var value in malformed)
        {
            foreach (var path in HitPaths)
            {
                foreach (var method in new[] { "GET", "POST" })
                {
                    b.Add("id-injection-hit", $"{method} {path} tid={value}", id => Request(method, $"{path}?v=2&tid={value.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)}&tgcase={id}", body: method == "POST" ? "en=page_view" : ""), Expect.Refused);
                }
            }

            foreach (var path in ScriptPaths)
            {
                b.Add("id-injection-script", $"{path} id={value}", id => Request("GET", $"{path}?id={value.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)}&tgcase={id}"), Expect.Refused);
            }
        }

        foreach (var query in new[] { "id=G-EVIL12345", "id=GTM-EVIL99", "id=AW-123456789", "ID=G-TEST1234", "%69d=G-TEST1234", "id[]=G-TEST1234", "Id=G-TEST1234", "" })
        {
            foreach (var path in ScriptPaths.Where(p => p != "/metrics"))
            {
                b.Add("id-injection-script", $"{path}?{query}", id => Request("GET", $"{path}?{query}&tgcase={id}"), Expect.Refused);
            }
        }
    }

    private static void CrlfAndHeaderInjection(Builder b)
    {
        // Encoded CR LF stays encoded in a forwarded query: legal, but it must never become a header anywhere.
        b.Add("crlf", "encoded CRLF in the query", id => Request("GET", Hit(id, extra: "&x=%0d%0aX-Evil:%20" + MarkerOf(id) + "%0d%0aSet-Cookie:%20" + MarkerOf(id))), Expect.Tolerated, markerMayReachUpstream: true);
        b.Add("crlf", "raw CR in the query", id => Request("GET", Hit(id, extra: "&x=a\rX-Evil: " + MarkerOf(id))), Expect.Refused);
        b.Add("crlf", "raw LF in the query", id => Request("GET", Hit(id, extra: "&x=a\nX-Evil: " + MarkerOf(id))), Expect.Refused);
        b.Add("crlf", "bare CR in a header value", id => Request("GET", Hit(id), headers: $"X-A: a\rX-Evil: {MarkerOf(id)}\r\n"), Expect.Refused);
        b.Add("crlf", "NUL in a header value", id => Request("GET", Hit(id), headers: $"X-A: a\0{MarkerOf(id)}\r\n"), Expect.Refused);
        b.Add("crlf", "obs-fold", id => Request("GET", Hit(id), headers: $"X-A: a\r\n {MarkerOf(id)}\r\n"), Expect.Refused);
        b.Add("crlf", "obs-fold with tab", id => Request("GET", Hit(id), headers: $"X-A: a\r\n\t{MarkerOf(id)}\r\n"), Expect.Refused);
        b.Add("crlf", "space before colon", id => Request("GET", Hit(id), headers: $"X-Evil : {MarkerOf(id)}\r\n"), Expect.Refused);
        b.Add("crlf", "space in a header name", id => Request("GET", Hit(id), headers: $"X Evil: {MarkerOf(id)}\r\n"), Expect.Refused);
        b.Add("crlf", "header without colon", id => Request("GET", Hit(id), headers: $"X-Evil-{MarkerOf(id)}\r\n"), Expect.Refused);
        b.Add("crlf", "separator in a header name", id => Request("GET", Hit(id), headers: $"X(Evil): {MarkerOf(id)}\r\n"), Expect.Tolerated);
        b.Add("crlf", "DEL in a header value", id => Request("GET", Hit(id), headers: $"X-A: a\x7f{MarkerOf(id)}\r\n"), Expect.Tolerated, markerMayReachUpstream: true);
        b.Add("crlf", "bare LF line endings", id => Request("GET", Hit(id)).Replace("\r\n", "\n", StringComparison.Ordinal), Expect.Tolerated);
        b.Add("crlf", "header line starting with whitespace", id => Request("GET", Hit(id), headers: $" X-Evil: {MarkerOf(id)}\r\n"), Expect.Refused);

        // Identifier cookies with hostile values: dropped and counted, never written back into Set-Cookie.
        foreach (var cookie in new[] { "_ga=GA1.1.1.1%0d%0aSet-Cookie:%20{m}", "_ga=\"GA1.1.1162820436.1749482504; Domain={m}\"", "_fbp=fb.1.1642973591141.{m}", "_gcl_au=1.1.{m}.1", "FPID=FPID2.2.{m}; Domain=evil", "_ga_ABC=GS1.1.{m}\\x", "tg_ga={m}", "_ga=GA1.1.1162820436.1749482504" + new string('9', 5000) + "{m}" })
        {
            b.Add("crlf", $"cookie {cookie[..Math.Min(cookie.Length, 40)]}", id => Request("GET", Hit(id), headers: $"Cookie: session={MarkerOf(id)}; {cookie.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)}\r\n"), Expect.Tolerated, markerMayReachUpstream: true);
        }

        // Click IDs on the page URL become cookies only when well formed.
        foreach (var dl in new[] { "gclid%3Dx%253BDomain%253D{m}", "fbclid%3Dx%250d%250aSet-Cookie%253A{m}", "ttclid%3D%2522{m}%2522", "gclid%3D{m}%2520x" })
        {
            b.Add("crlf", $"click id {dl[..6]}", id => Request("GET", Hit(id, extra: "&dl=https%3A%2F%2Fshop.example%2F%3F" + dl.Replace("{m}", MarkerOf(id), StringComparison.Ordinal))), Expect.Tolerated, markerMayReachUpstream: true);
        }
    }

    private static void Oversize(Builder b)
    {
        foreach (var path in new[] { "/metrics/g/collect", "/metrics/ag/g/c" })
        {
            b.Add("oversize", "request line 9 KiB", id => Request("GET", Hit(id, path, "&x=" + new string('x', 9 * 1024) + MarkerOf(id))), Expect.Refused);
            b.Add("oversize", "header 40 KiB", id => Request("GET", Hit(id, path), headers: $"X-Big: {new string('x', 40 * 1024)}{MarkerOf(id)}\r\n"), Expect.Refused);
            b.Add("oversize", "cookie 33 KiB", id => Request("GET", Hit(id, path), headers: $"Cookie: {GoodGa}; big={new string('x', 33 * 1024)}{MarkerOf(id)}\r\n"), Expect.Refused);
            b.Add("oversize", "300 headers", id => Request("GET", Hit(id, path), headers: string.Concat(Enumerable.Range(0, 300).Select(i => $"X-H{i}: {MarkerOf(id)}\r\n"))), Expect.Refused);
            b.Add("oversize", "body 64 KiB + 1", id => Request("POST", Hit(id, path), body: new string('a', 64 * 1024) + MarkerOf(id)), Expect.Refused);
            b.Add("oversize", "Content-Length 10^12, little sent", id => Request("POST", Hit(id, path), headers: "Content-Length: 1000000000000\r\n", body: MarkerOf(id)), Expect.Refused);
            b.Add("oversize", "Content-Length 2^64", id => Request("POST", Hit(id, path), headers: "Content-Length: 18446744073709551616\r\n", body: MarkerOf(id)), Expect.Refused);
            b.Add("oversize", "Content-Length -1", id => Request("POST", Hit(id, path), headers: "Content-Length: -1\r\n", body: MarkerOf(id)), Expect.Refused);
            b.Add("oversize", "Content-Length 1e3", id => Request("POST", Hit(id, path), headers: "Content-Length: 1e3\r\n", body: MarkerOf(id)), Expect.Refused);
            b.Add("oversize", "two different Content-Lengths", id => Request("POST", Hit(id, path), headers: "Content-Length: 5\r\nContent-Length: 16\r\n", body: "en=ab" + MarkerOf(id)), Expect.Refused);
            b.Add("oversize", "chunked over 64 KiB", id => Request("POST", Hit(id, path), headers: "Transfer-Encoding: chunked\r\n", body: string.Concat(Enumerable.Repeat($"2000\r\n{new string('a', 0x2000)}\r\n", 9)) + $"{MarkerOf(id).Length:x}\r\n{MarkerOf(id)}\r\n0\r\n\r\n"), Expect.Refused);
            b.Add("oversize", "chunk size 2^64", id => Request("POST", Hit(id, path), headers: "Transfer-Encoding: chunked\r\n", body: $"10000000000000000\r\n{MarkerOf(id)}\r\n0\r\n\r\n"), Expect.Refused);
            b.Add("oversize", "method 300 characters", id => Request(new string('G', 300), Hit(id, path), headers: $"X-Case: {MarkerOf(id)}\r\n"), Expect.Refused);
        }
    }

    private static void ChunkedAndSmuggling(Builder b)
    {
        // The request hidden behind each framing trick: a traversal, so it is refused if it is ever parsed as a request.
        static string Smuggled(int id) => $"GET /metrics/..;/{MarkerOf(id)}?tgcase={id} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n";
        const string Chunks = "5\r\nen=ab\r\n0\r\n\r\n";

        b.Add("smuggling", "CL.TE", id => Request("POST", Hit(id), headers: "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", body: Chunks + Smuggled(id), close: false), Expect.Tolerated, responses: 2);
        b.Add("smuggling", "TE.CL", id => Request("POST", Hit(id), headers: "Transfer-Encoding: chunked\r\nContent-Length: 60\r\n", body: Chunks + Smuggled(id), close: false), Expect.Tolerated, responses: 2);
        b.Add("smuggling", "CL body hides a request", id => Request("POST", Hit(id), headers: "Content-Length: 5\r\n", body: "en=ab" + Smuggled(id), close: false), Expect.Tolerated, responses: 2);
        foreach (var te in new[] { "chunked, identity", "identity", "xchunked", "chunked;q=1", "Chunked", "CHUNKED", "chunked\u000b", "\tchunked", "gzip, chunked", "chunked, chunked", "identity, chunked", "chunked\r\nTransfer-Encoding: identity", "chunk", "\"chunked\"" })
        {
            b.Add("smuggling", $"TE: {te.Replace("\r\n", " | ", StringComparison.Ordinal)}", id => Request("POST", Hit(id), headers: $"Transfer-Encoding: {te}\r\nContent-Length: 16\r\n", body: Chunks + Smuggled(id), close: false), Expect.Tolerated, responses: 2);
            b.Add("smuggling", $"TE only: {te.Replace("\r\n", " | ", StringComparison.Ordinal)}", id => Request("POST", Hit(id), headers: $"Transfer-Encoding: {te}\r\n", body: Chunks + Smuggled(id), close: false), Expect.Tolerated, responses: 2);
        }

        // Not a Transfer-Encoding header at all: Content-Length frames the whole text as the body.
        b.Add("smuggling", "Transfer_Encoding", id => Request("POST", Hit(id), headers: "Transfer_Encoding: chunked\r\n", body: Chunks + Smuggled(id), close: false), Expect.Tolerated, responses: 2, markerMayReachUpstream: true);
        b.Add("smuggling", "Transfer-Encoding with space before colon", id => Request("POST", Hit(id), headers: "Transfer-Encoding : chunked\r\n", body: Chunks + Smuggled(id), close: false), Expect.Tolerated, responses: 2);
        b.Add("smuggling", "chunked on HTTP/1.0", id => Request("POST", Hit(id), headers: "Transfer-Encoding: chunked\r\n", body: Chunks + Smuggled(id), close: false, version: "HTTP/1.0"), Expect.Tolerated, responses: 2);

        foreach (var chunked in new[] { "zz\r\nen=ab\r\n0\r\n\r\n", "-1\r\nen=ab\r\n0\r\n\r\n", "0x5\r\nen=ab\r\n0\r\n\r\n", "5 \r\nen=ab\r\n0\r\n\r\n", "5;ext={m}\r\nen=ab\r\n0\r\n\r\n", "5\nen=ab\n0\n\n", "a\r\nen=ab\r\n0\r\n\r\n", "5\r\nen=ab0\r\n\r\n", "3\r\nen=ab\r\n0\r\n\r\n", "0000000000000000000005\r\nen=ab\r\n0\r\n\r\n", "5\r\nen=ab\r\n0\r\nX-Trailer: {m}\r\n\r\n", "+5\r\nen=ab\r\n0\r\n\r\n", "5\r\nen=ab\r\n" })
        {
            b.Add("chunked", $"chunks {chunked[..Math.Min(8, chunked.Length)].Replace("\r\n", "\\r\\n", StringComparison.Ordinal)}", id => Request("POST", Hit(id), headers: "Transfer-Encoding: chunked\r\n", body: chunked.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)), Expect.Tolerated, markerMayReachUpstream: chunked.Contains("X-Trailer", StringComparison.Ordinal));
        }

        foreach (var length in new[] { "+5", "5, 5", "05", " 5 ", "5 5", "0x5", "5.0" })
        {
            b.Add("chunked", $"Content-Length: {length}", id => Request("POST", Hit(id), headers: $"Content-Length: {length}\r\n", body: "en=ab" + Smuggled(id), close: false), Expect.Tolerated, responses: 2);
        }
    }

    private static void Versions(Builder b)
    {
        foreach (var version in new[] { "HTTP/1.0", "HTTP/2.0", "HTTP/2", "HTTP/3.0", "HTTP/1.2", "HTTP/9.9", "http/1.1", "HTTP/1.10", "HTTP/01.1", "HTTP/1.1 x", "HTTP/1.1\0", "HTTP/1", "HTTP", "HTTPS/1.1", "HTTP/1.1\t" })
        {
            b.Add("version", version.Replace("\0", "\\0", StringComparison.Ordinal), id => Request("GET", Hit(id), headers: $"X-Case: {MarkerOf(id)}\r\n", version: version), version == "HTTP/1.0" ? Expect.Tolerated : Expect.Refused, markerMayReachUpstream: version == "HTTP/1.0");
        }

        b.Add("version", "HTTP/0.9", id => $"GET {Hit(id, "/metrics/..;/" + MarkerOf(id))}\r\n", Expect.Refused);
        b.Add("version", "HTTP/0.9 hit", id => $"GET {Hit(id)}\r\n\r\n", Expect.Refused);
        b.Add("version", "HTTP/2 prior knowledge", id => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0" + MarkerOf(id), Expect.Refused);
        b.Add("version", "h2c upgrade", id => Request("GET", Hit(id), headers: "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings\r\n", close: false), Expect.Tolerated);
        b.Add("version", "websocket upgrade", id => Request("GET", Hit(id), headers: "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n", close: false), Expect.Tolerated);
        b.Add("version", "TLS ClientHello", id => "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + MarkerOf(id) + new string('\x00', 64), Expect.Refused);
        b.Add("version", "SSH banner", id => $"SSH-2.0-OpenSSH_9.6 {MarkerOf(id)}\r\n", Expect.Refused);
        b.Add("version", "leading empty lines", id => "\r\n\r\n" + Request("GET", Hit(id)), Expect.Tolerated);
        b.Add("version", "only CRLF", _ => "\r\n", Expect.Refused);
        b.Add("version", "random bytes", id => new string(Enumerable.Range(0, 512).Select(i => (char)new Random(id).Next(0, 256)).ToArray()) + MarkerOf(id), Expect.Refused);
        b.Add("version", "random bytes after a request line", id => $"GET {Hit(id)} HTTP/1.1\r\n" + new string(new Random(id).GetItems("\0\x01\x7f\x80\xff:\r\n \tabc".ToCharArray(), 256)) + MarkerOf(id) + "\r\n\r\n", Expect.Refused);
    }

    private static void Pipelining(Builder b)
    {
        b.Add("pipelining", "three hits", id => Request("GET", Hit(id), close: false) + Request("POST", Hit(id, "/metrics/ag/g/c"), body: "en=a", close: false) + Request("GET", Hit(id)), Expect.Tolerated, responses: 3);
        b.Add("pipelining", "hit, traversal, hit", id => Request("GET", Hit(id), close: false) + Request("GET", Hit(id, "/metrics/..;/" + MarkerOf(id)), close: false) + Request("GET", Hit(id)), Expect.Tolerated, responses: 3);
        b.Add("pipelining", "traversal, absolute form, CONNECT", id => Request("GET", Hit(id, "/metrics/%252e%252e/" + MarkerOf(id)), close: false) + Request("GET", "http://" + MarkerOf(id) + ".example" + Hit(id), close: false) + Request("CONNECT", MarkerOf(id) + ".example:443"), Expect.Refused, responses: 3);
        b.Add("pipelining", "hit then malformed tid", id => Request("GET", Hit(id), close: false) + Request("GET", $"/metrics/g/collect?v=2&tid={MarkerOf(id)}&tgcase={id}"), Expect.Tolerated, responses: 2);
        b.Add("pipelining", "hit then oversize header", id => Request("GET", Hit(id), close: false) + Request("GET", Hit(id), headers: $"X-Big: {new string('x', 40 * 1024)}{MarkerOf(id)}\r\n"), Expect.Tolerated, responses: 2);
        b.Add("pipelining", "twenty hits with spoofed XFF", id => string.Concat(Enumerable.Range(0, 19).Select(_ => Request("GET", Hit(id), headers: $"X-Forwarded-For: {SpoofedIp}\r\n", close: false))) + Request("GET", Hit(id), headers: $"X-Forwarded-For: {SpoofedIp}\r\n"), Expect.Tolerated, responses: 20);
        b.Add("pipelining", "script refused then hit", id => Request("GET", $"/metrics/gtag/js?id=GTM-EVIL99&tgcase={id}", close: false) + Request("GET", Hit(id)), Expect.Tolerated, responses: 2);
        // The declared length swallows the next request: it is the body, framed as declared, and goes upstream as a body.
        b.Add("pipelining", "body shorter than declared then a request", id => Request("POST", Hit(id), headers: "Content-Length: 100\r\n", body: "en=ab", close: false) + Request("GET", Hit(id, "/metrics/..;/" + MarkerOf(id))), Expect.Tolerated, responses: 2, markerMayReachUpstream: true);
    }

    private static void NonUtf8(Builder b)
    {
        foreach (var path in new[] { "/metrics/g/\xff\xfe", "/metrics/\xc0\xae\xc0\xae/{m}", "/metrics/g/coll\x80ct", "/metrics/g/collect\xe9" })
        {
            foreach (var method in new[] { "GET", "POST" })
            {
                b.Add("non-utf8", $"{method} path {path.Length}", id => Request(method, Hit(id, path.Replace("{m}", MarkerOf(id), StringComparison.Ordinal))), Expect.Refused);
            }
        }

        foreach (var (name, headers, expect, mayReach) in new[]
        {
            ("query bytes", "", Expect.Tolerated, false),
            ("User-Agent invalid UTF-8", "User-Agent: Mozilla \xc3\x28 \xff\r\n", Expect.Tolerated, false),
            ("header name byte", "X-\xff: {m}\r\n", Expect.Refused, false),
            ("cookie bytes", "Cookie: _ga=GA1.1.\xff\xfe.{m}\r\n", Expect.Tolerated, true),
            ("Accept-Language bytes", "Accept-Language: \xe9\xe8, {m}\r\n", Expect.Tolerated, true),
        })
        {
            foreach (var method in new[] { "GET", "POST" })
            {
                b.Add("non-utf8", $"{method} {name}", id => Request(method, name == "query bytes" ? Hit(id, extra: "&x=\xff\xfe\xc0\xae") : Hit(id), headers: headers.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)), expect, markerMayReachUpstream: mayReach);
            }
        }

        b.Add("non-utf8", "Host bytes", id => Request("GET", Hit(id), host: "sh\xf6p." + MarkerOf(id) + ".example"), Expect.Tolerated);
    }

    private static void Methods(Builder b)
    {
        foreach (var method in new[] { "TRACE", "CONNECT", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "MKCOL", "LOCK", "FOO", "M-SEARCH", "PRI", "G\0ET", "GET\t", "GE T", "TRACK", "DEBUG" })
        {
            foreach (var path in new[] { "/metrics/g/collect", "/metrics/ag/g/c", "/metrics/gtag/js" })
            {
                var target = path.EndsWith("/js", StringComparison.Ordinal) ? "/metrics/gtag/js?id=G-TEST1234&tgcase={id}" : null;
                b.Add("method", $"{method.Replace("\0", "\\0", StringComparison.Ordinal)} {path}", id => Request(method, target?.Replace("{id}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) ?? Hit(id, path), headers: $"X-Trace-Me: {MarkerOf(id)}\r\nMax-Forwards: 0\r\n"), Expect.Refused);
            }
        }

        // Method names are case-sensitive (RFC 9110 9.1); the gateway forwards a lower-case "get" as GET, which is harmless.
        foreach (var method in new[] { "get", "Get", "pOST", "head" })
        {
            b.Add("method", $"{method} hit", id => Request(method, Hit(id), body: ""), Expect.Tolerated);
        }

        b.Add("method", "X-HTTP-Method-Override", id => Request("POST", Hit(id), headers: "X-HTTP-Method-Override: DELETE\r\nX-Method-Override: PUT\r\n", body: "en=a"), Expect.Tolerated);
    }

    private static void SpoofedEdge(Builder b, string secret)
    {
        string[] spoofs =
        [
            $"X-Forwarded-For: {SpoofedIp}", $"X-Forwarded-For: {SpoofedIp}, 198.18.0.67", $"X-Forwarded-For: 127.0.0.1, {SpoofedIp}", $"CF-Connecting-IP: {SpoofedIp}",
            $"True-Client-IP: {SpoofedIp}", $"X-Real-IP: {SpoofedIp}", $"Forwarded: for={SpoofedIp};host={{m}}.example;proto=https", $"X-TagGateway-Client-IP: {SpoofedIp}",
            "X-TagGateway-Country: KP", "X-TagGateway-Region: 01", "X-TagGateway-Host: {m}.example", "X-TagGateway-Proto: https", $"X-TagGateway-Secret: {secret}",
            "CF-IPCountry: KP", "CF-Region-Code: 01", "X-Gclb-Country: KP", "X-Gclb-Region: KP01", "X-Forwarded-CountryRegion: KP-01", "X-Forwarded-Country: KP",
            "X-Forwarded-Region: 01", "X-Forwarded-Host: {m}.example", "X-Forwarded-Proto: https", "X-Original-URL: /{m}", "X-Rewrite-URL: /{m}",
            "X-Forwarded-Prefix: /{m}", "X-Forwarded-Port: 1", "X-Client-IP: " + SpoofedIp, "Client-IP: " + SpoofedIp,
        ];
        var all = string.Join("\r\n", spoofs) + "\r\n";
        foreach (var (method, path) in new[] { ("GET", "/metrics/g/collect"), ("POST", "/metrics/ag/g/c"), ("GET", "/metrics/ccm/collect") })
        {
            foreach (var spoof in spoofs)
            {
                b.Add("spoofed-edge", $"{method} {path} {spoof}", id => Request(method, Hit(id, path), headers: $"Cookie: {GoodGa}\r\n{spoof.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)}\r\nX-TagGateway-Secret: {secret}\r\n", body: method == "POST" ? "en=page_view" : ""), Expect.Tolerated);
            }

            b.Add("spoofed-edge", $"{method} {path} all at once", id => Request(method, Hit(id, path), headers: $"Cookie: {GoodGa}\r\n{all.Replace("{m}", MarkerOf(id), StringComparison.Ordinal)}", body: method == "POST" ? "en=page_view" : ""), Expect.Tolerated);
        }
    }

    private sealed class Builder(int firstId)
    {
        public List<HostileCase> Cases { get; } = [];

        public void Add(string @class, string name, Func<int, string> request, Expect expect, int responses = 1, bool markerMayReachUpstream = false)
        {
            var id = firstId + Cases.Count;
            var text = request(id);

            // A fullwidth dot and other real text is UTF-8 on the wire; the rest of the strings carry raw bytes as Latin-1.
            var bytes = text.Any(c => c > '\xff') ? Encoding.UTF8.GetBytes(text) : Encoding.Latin1.GetBytes(text);
            Cases.Add(new HostileCase(id, @class, name, bytes, expect, responses, markerMayReachUpstream));
        }
    }
}
