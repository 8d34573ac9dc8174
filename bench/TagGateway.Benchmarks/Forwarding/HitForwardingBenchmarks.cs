using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using TagGateway.Routing;

namespace TagGateway.Benchmarks.Forwarding;

/// <summary>
/// One GA4 hit through the gateway's whole public handler (target checks, tag check, client identity, header and
/// cookie filtering, streaming the body, relaying the response) against an in-memory upstream. The allocation
/// column is what one forwarded hit costs the gateway plus the HttpRequestMessage/HttpResponseMessage the HTTP
/// client needs; Kestrel's own per-request objects are not in it.
/// </summary>
[MemoryDiagnoser]
public class HitForwardingBenchmarks
{
    private const string Target = "/metrics/g/collect?v=2&tid=G-ABC123XYZ9&gtm=45je5bi1v9117590405za200&_p=1749482504123&gcs=G111&gcd=13r3r3r3r5l1&cid=1162820436.1749482504&ul=en-us&sr=1920x1080&_s=3&sid=1749482504&sct=4&seg=1&dl=https%3A%2F%2Fshop.example.com%2Fcheckout&dt=Checkout";
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("en=page_view&_et=12\r\nen=scroll&epn.percent_scrolled=90\r\nen=add_to_cart&pr1=idSKU_1~nmTee~pr10.01~qt1");

    private WebApplication _app = null!;
    private MeasurementRequestHandler _handler = null!;
    private DefaultHttpContext _context = null!;
    private MemoryStream _requestBody = null!;
    private RequestFeature _requestFeature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _app = InMemoryGateway.Create(new CollectUpstream(), ("Gateway:ClientIdentity:Edge", "CloudflareWorker"), ("Gateway:ClientIdentity:EdgeSecret", "0123456789abcdef0123456789abcdef"));
        _handler = _app.Services.GetRequiredService<MeasurementRequestHandler>();
        _requestBody = new MemoryStream(Body, writable: false);
        _requestFeature = new RequestFeature();
        _context = new DefaultHttpContext();
        _context.Features.Set<IHttpRequestFeature>(_requestFeature);
        _context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        _context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        var headers = _requestFeature.Headers;
        headers["Host"] = "shop.example.com";
        headers["User-Agent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
        headers["Accept"] = "*/*";
        headers["Accept-Language"] = "en-US,en;q=0.9";
        headers["Content-Type"] = "text/plain;charset=UTF-8";
        headers["Content-Length"] = Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["Origin"] = "https://shop.example.com";
        headers["Referer"] = "https://shop.example.com/checkout";
        // A steady-state visitor: identifiers refreshed within the day (the marker), so the response adds no Set-Cookie.
        var refreshed = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        headers["Cookie"] = $"_ga=GA1.1.1162820436.1749482504; _ga_ABC123XYZ9=GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0; session=eyJhbGciOi; _fbp=fb.1.1642973591141.184636131; tg_ga=GA1.1.1162820436.1749482504; tg_fbp=fb.1.1642973591141.184636131; FPID=FPID2.2.ouCBb_HxEuR2xmsV_DNquw.1795953600; tg_ts={refreshed}";
        headers["X-TagGateway-Client-IP"] = "203.0.113.50";
        headers["X-TagGateway-Country"] = "DE";
        headers["X-TagGateway-Region"] = "BE";
        headers["X-TagGateway-Secret"] = "0123456789abcdef0123456789abcdef";
    }

    [GlobalCleanup]
    public void Cleanup() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public Task ForwardOneHit()
    {
        _requestBody.Position = 0;
        _requestFeature.Body = _requestBody;
        _requestFeature.Method = "POST";
        _requestFeature.RawTarget = Target;
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        _handler.TryHandle(_context, out var handled);
        return handled;
    }

    private sealed class RequestFeature : HttpRequestFeature
    {
    }
}
