using System.Diagnostics;
using TagGateway.ClientIdentity;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Hits;
using TagGateway.LiveView;
using TagGateway.Pipeline;
using TagGateway.Routing;

namespace TagGateway.Benchmarks.LiveView;

/// <summary>
/// What the live view costs a forwarded hit: the recording call alone (a GA4 hit with a three-event body and four
/// Set-Cookie headers copied into the preallocated ring), and the whole public handler with the UI on and off.
/// The budget: at most a few hundred bytes and under a microsecond per hit.
/// </summary>
[MemoryDiagnoser]
public class LiveRecordingBenchmarks
{
    private const string Query = "v=2&tid=G-ABC123XYZ9&gtm=45je5bi1v9117590405za200&gcs=G111&gcd=13r3r3r3r5l1&cid=1162820436.1749482504&en=page_view&dl=https%3A%2F%2Fshop.example.com%2F";

    private WebApplication _app = null!;
    private LiveRecorder _recorder = null!;
    private HitRequest _hit = null!;
    private DefaultHttpContext _hitContext = null!;
    private MeasurementRequestHandler _handler = null!;
    private DefaultHttpContext _context = null!;
    private MemoryStream _requestBody = null!;
    private HttpRequestFeature _requestFeature = null!;

    [Params(true, false)]
    public bool UiEnabled { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _app = InMemoryGateway.Create(new CollectUpstream(), ("Gateway:Management:UiEnabled", UiEnabled ? "true" : "false"));
        _recorder = _app.Services.GetRequiredService<LiveRecorder>();
        var policy = _app.Services.GetRequiredService<IConsentPolicy>();

        HitFacts.TryParse("g/collect", Query, out var facts);
        var signals = ConsentSignals.FromQuery(Query, globalPrivacyControl: false);
        var client = new ClientInfo("203.0.113.50", "DE-BE", "DE", IsHttps: true, FromTrustedEdge: true, SiteHost: "shop.example.com");
        _hit = new HitRequest(facts, Query, client, false, signals, policy.Decide(signals, "DE-BE"));
        var body = System.Buffers.ArrayPool<byte>.Shared.Rent(BenchRequest.CollectBody.Length);
        BenchRequest.CollectBody.CopyTo(body, 0);
        _hit.SetBody(body, BenchRequest.CollectBody.Length);
        _hitContext = new DefaultHttpContext();
        _hitContext.Response.StatusCode = 204;
        _hitContext.Response.Headers.SetCookie = new[]
        {
            "_ga=GA1.1.1162820436.1749482504; Domain=example.com; Path=/; Max-Age=34560000; SameSite=Lax; Secure",
            "FPID=FPID2.2.ouCBb_HxEuR2xmsV_DNquw.1795953600; Domain=example.com; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax; Secure",
            "tg_ga=GA1.1.1162820436.1749482504; Domain=example.com; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax; Secure",
            "tg_ts=1749482504; Domain=example.com; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax; Secure",
        };

        _handler = _app.Services.GetRequiredService<MeasurementRequestHandler>();
        _requestBody = new MemoryStream(BenchRequest.CollectBody, writable: false);
        _context = BenchRequest.Context(out _requestFeature);
        BenchRequest.AddBrowserHeaders(_requestFeature.Headers, "_ga=GA1.1.1162820436.1749482504; FPID=FPID2.2.ouCBb_HxEuR2xmsV_DNquw.1795953600");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hit.Dispose();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The one call the handler makes per forwarded hit (a no-op when the UI is off).</summary>
    [Benchmark]
    public void RecordOneHit() => _recorder.RecordHit(_hitContext, _hit, Stopwatch.GetTimestamp());

    /// <summary>A whole forwarded hit, recording included or not: the difference is the live view's share.</summary>
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
