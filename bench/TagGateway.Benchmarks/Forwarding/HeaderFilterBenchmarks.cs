using TagGateway.Forwarding;

namespace TagGateway.Benchmarks.Forwarding;

/// <summary>Which headers and cookies cross the gateway.</summary>
[MemoryDiagnoser]
public class HeaderFilterBenchmarks
{
    private const string GoogleOnly = "_ga=GA1.1.1162820436.1749482504; _ga_ABC123XYZ9=GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0; _gcl_au=1.1.1406894807.1642973586";
    private const string Mixed = "session=eyJhbGciOi; _ga=GA1.1.1162820436.1749482504; _fbp=fb.1.1642973591141.184636131; _ga_ABC123XYZ9=GS2.1.s1747132561$o1$g0; cart=3; _gcl_au=1.1.1406894807.1642973586";
    private static readonly string[] Names = ["User-Agent", "Accept", "Accept-Language", "Sec-CH-UA", "Content-Type", "Origin", "Referer", "Cookie", "Connection", "X-Forwarded-For", "CF-Connecting-IP", "Authorization"];

    [Benchmark]
    public string? Cookies_all_Google() => GoogleCookieFilter.Filter(GoogleOnly);

    [Benchmark]
    public string? Cookies_mixed() => GoogleCookieFilter.Filter(Mixed);

    [Benchmark]
    public int Request_header_rules()
    {
        var dropped = 0;
        foreach (var name in Names)
        {
            if (HeaderRules.IsDroppedRequestHeader(name))
            {
                dropped++;
            }
        }

        return dropped;
    }
}
