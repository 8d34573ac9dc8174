using System.Text;
using TagGateway.Pipeline;
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
    private WebApplication _app = null!;
    private MeasurementRequestHandler _handler = null!;
    private DefaultHttpContext _context = null!;
    private MemoryStream _requestBody = null!;
    private HttpRequestFeature _requestFeature = null!;

    /// <summary>
    /// A returning visitor's hit (its refresh marker is fresh: no Set-Cookie added) or the first hit of the visitor's day
    /// (identifiers re-issued by header, their HttpOnly copies kept, the refresh marker set).
    /// </summary>
    [Params(false, true)]
    public bool FirstHitOfDay { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _app = InMemoryGateway.Create(new CollectUpstream(), ("Gateway:ClientIdentity:Edge", "CloudflareWorker"), ("Gateway:ClientIdentity:EdgeSecret", "0123456789abcdef0123456789abcdef"));
        _handler = _app.Services.GetRequiredService<MeasurementRequestHandler>();
        _requestBody = new MemoryStream(BenchRequest.CollectBody, writable: false);
        _context = BenchRequest.Context(out _requestFeature);
        var headers = _requestFeature.Headers;

        // The marker says when identifiers were last re-issued: now (steady state) or two days ago (re-issue them).
        var refreshed = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (FirstHitOfDay ? 2 * 86400 : 0);
        BenchRequest.AddBrowserHeaders(headers, $"_ga=GA1.1.1162820436.1749482504; _ga_ABC123XYZ9=GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0; session=eyJhbGciOi; _fbp=fb.1.1642973591141.184636131; tg_ga=GA1.1.1162820436.1749482504; tg_fbp=fb.1.1642973591141.184636131; FPID=FPID2.2.ouCBb_HxEuR2xmsV_DNquw.1795953600; tg_ts={refreshed}");
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
        _requestFeature.RawTarget = BenchRequest.CollectTarget;
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        _handler.TryHandle(_context, out var handled);
        return handled;
    }
}
