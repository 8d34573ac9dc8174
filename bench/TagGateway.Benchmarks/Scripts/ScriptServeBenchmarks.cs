using System.Net;
using System.Text;
using TagGateway.Pipeline;
using TagGateway.Routing;

namespace TagGateway.Benchmarks.Scripts;

/// <summary>A script request answered from the cache: Brotli body, and a conditional request answered 304.</summary>
[MemoryDiagnoser]
public class ScriptServeBenchmarks
{
    private WebApplication _app = null!;
    private MeasurementRequestHandler _handler = null!;
    private DefaultHttpContext _context = null!;
    private HttpRequestFeature _request = null!;
    private string _etag = null!;

    [GlobalSetup]
    public void Setup()
    {
        _app = InMemoryGateway.Create(new ScriptUpstream());
        _handler = _app.Services.GetRequiredService<MeasurementRequestHandler>();
        _context = BenchRequest.Context(out _request);
        _request.Headers["Accept-Encoding"] = "gzip, deflate, br, zstd";
        _request.Headers["User-Agent"] = "Mozilla/5.0 Safari/605.1.15";

        // Warm the cache with the one upstream fetch.
        ServeFromCache().GetAwaiter().GetResult();
        _etag = _context.Response.Headers.ETag.ToString();
    }

    [GlobalCleanup]
    public void Cleanup() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public Task ServeFromCache()
    {
        _request.Headers.IfNoneMatch = default;
        return Serve();
    }

    [Benchmark]
    public Task NotModified()
    {
        _request.Headers.IfNoneMatch = _etag;
        return Serve();
    }

    private Task Serve()
    {
        _request.Method = "GET";
        _request.RawTarget = "/metrics/gtag/js?id=G-ABC123XYZ9&l=dataLayer&cx=c";
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        _handler.TryHandle(_context, out var handled);
        return handled;
    }

    private sealed class ScriptUpstream : HttpMessageHandler
    {
        private static readonly string Script = string.Concat(Enumerable.Range(0, 4000).Select(i => $"function gtag{i}(){{dataLayer.push(arguments)}}\n"));

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Script, Encoding.UTF8, "application/javascript") };
            response.Headers.TryAddWithoutValidation("Cache-Control", "private, max-age=900");
            return Task.FromResult(response);
        }
    }
}
