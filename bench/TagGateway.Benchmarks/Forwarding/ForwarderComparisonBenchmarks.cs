using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
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
    private const string Url = "http://g-abc123xyz9.fps.goog/metrics/g/collect?v=2&tid=G-ABC123XYZ9&gtm=45je5bi1v9117590405za200&_p=1749482504123&gcs=G111&gcd=13r3r3r3r5l1&cid=1162820436.1749482504&ul=en-us&sr=1920x1080&_s=3&sid=1749482504&sct=4&seg=1&dl=https%3A%2F%2Fshop.example.com%2Fcheckout&dt=Checkout";
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("en=page_view&_et=12\r\nen=scroll&epn.percent_scrolled=90\r\nen=add_to_cart&pr1=idSKU_1~nmTee~pr10.01~qt1");

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

        _body = new MemoryStream(Body, writable: false);
        _request = new HttpRequestFeature();
        _context = new DefaultHttpContext();
        _context.Features.Set<IHttpRequestFeature>(_request);
        _context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        _context.Connection.RemoteIpAddress = IPAddress.Loopback;
        var headers = _request.Headers;
        headers["Host"] = "shop.example.com";
        headers["User-Agent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
        headers["Accept"] = "*/*";
        headers["Accept-Language"] = "en-US,en;q=0.9";
        headers["Content-Type"] = "text/plain;charset=UTF-8";
        headers["Content-Length"] = Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["Origin"] = "https://shop.example.com";
        headers["Cookie"] = "_ga=GA1.1.1162820436.1749482504; session=eyJhbGciOi; _fbp=fb.1.1642973591141.184636131";
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
