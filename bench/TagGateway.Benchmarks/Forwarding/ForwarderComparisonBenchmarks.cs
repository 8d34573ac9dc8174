using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TagGateway.ClientIdentity;
using TagGateway.Consent.Policy;
using TagGateway.Forwarding;
using TagGateway.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace TagGateway.Benchmarks.Forwarding;

/// <summary>
/// Our forwarder against YARP's IHttpForwarder (which also publishes Native AOT clean) on the same in-memory
/// upstream and the same request, each doing what a hit needs: the path kept, Host set to the fps.goog name,
/// X-Forwarded-For added, non-Google cookies dropped, every Set-Cookie relayed.
/// </summary>
[MemoryDiagnoser]
public class ForwarderComparisonBenchmarks
{
    private const string Url = "http://g-abc123xyz9.fps.goog" + BenchRequest.CollectTarget;

    private WebApplication _app = null!;
    private HitForwarder _ours = null!;
    private ConsentDecision _consent;
    private IHttpForwarder _yarp = null!;
    private HttpMessageInvoker _yarpInvoker = null!;
    private HttpTransformer _yarpTransformer = null!;
    private DefaultHttpContext _context = null!;
    private HttpRequestFeature _request = null!;
    private MemoryStream _body = null!;
    private readonly ClientInfo _client = new("203.0.113.50", "DE-BE", "DE", IsHttps: true, FromTrustedEdge: true, SiteHost: "shop.example.com");

    [GlobalSetup]
    public void Setup()
    {
        _app = InMemoryGateway.Create(new CollectUpstream(), ("Cookies:Enabled", "false"));
        _ours = _app.Services.GetRequiredService<HitForwarder>();
        _consent = _app.Services.GetRequiredService<IConsentPolicy>().Decide(default, "DE");

        var services = new ServiceCollection().AddLogging(b => b.ClearProviders()).AddHttpForwarder().BuildServiceProvider();
        _yarp = services.GetRequiredService<IHttpForwarder>();
        _yarpInvoker = new HttpMessageInvoker(new CollectUpstream());
        _yarpTransformer = new HitTransformer();

        _body = new MemoryStream(BenchRequest.CollectBody, writable: false);
        _context = BenchRequest.Context(out _request);
        BenchRequest.AddBrowserHeaders(_request.Headers, "_ga=GA1.1.1162820436.1749482504; session=eyJhbGciOi; _fbp=fb.1.1642973591141.184636131");
    }

    [GlobalCleanup]
    public void Cleanup() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void Reset()
    {
        _body.Position = 0;
        _request.Body = _body;
        _request.Method = "POST";
        _request.Path = "/metrics/g/collect";
        _request.QueryString = Url[Url.IndexOf('?', StringComparison.Ordinal)..];
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
    }

    [Benchmark(Baseline = true)]
    public Task TagGatewayForwarder()
    {
        Reset();
        return _ours.ForwardAsync(_context, new UpstreamTarget(Url, "g-abc123xyz9.fps.goog"), _client, _consent, "hit");
    }

    [Benchmark]
    public ValueTask<Yarp.ReverseProxy.Forwarder.ForwarderError> YarpHttpForwarder()
    {
        Reset();
        return _yarp.SendAsync(_context, "http://g-abc123xyz9.fps.goog", _yarpInvoker, ForwarderRequestConfig.Empty, _yarpTransformer);
    }

    /// <summary>The same job expressed as a YARP transformer.</summary>
    private sealed class HitTransformer : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, httpContext.Request.Path, httpContext.Request.QueryString);
            proxyRequest.Headers.Host = "g-abc123xyz9.fps.goog";
            proxyRequest.Headers.Remove("Cookie");
            if (GoogleCookieFilter.Filter(httpContext.Request.Headers.Cookie.ToString()) is { } kept)
            {
                proxyRequest.Headers.TryAddWithoutValidation("Cookie", kept);
            }

            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.50");
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-CountryRegion", "DE-BE");
        }
    }
}
