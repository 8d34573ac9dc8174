using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TagGateway.ClientIdentity;
using TagGateway.Consent.Policy;
using TagGateway.Forwarding;
using TagGateway.Hits;
using TagGateway.Routing;

namespace TagGateway.Benchmarks.Forwarding;

/// <summary>
/// One GA4 hit forwarded by each <c>Gateway:Forwarding:Client</c> to a real loopback upstream (a socket server in
/// this process that answers like Google's collect endpoint and allocates nothing per request): CPU and bytes per
/// forwarded hit, the request head, the body from the hit's pooled buffer and the response head included.
/// </summary>
[MemoryDiagnoser]
public class UpstreamClientBenchmarks
{
    private const string Target = BenchRequest.CollectTarget;

    private LoopbackCollectUpstream _upstream = null!;
    private WebApplication _app = null!;
    private HitForwarder _forwarder = null!;
    private ConsentDecision _consent;
    private DefaultHttpContext _context = null!;
    private HttpRequestFeature _request = null!;
    private HitRequest _hit = null!;
    private UpstreamTarget _target;
    private readonly ClientInfo _client = new("203.0.113.50", "DE-BE", "DE", IsHttps: true, FromTrustedEdge: true, SiteHost: "shop.example.com");

    [Params("Http", "Pipelines")]
    public string Client { get; set; } = "Pipelines";

    [GlobalSetup]
    public void Setup()
    {
        _upstream = LoopbackCollectUpstream.Start();
        var values = new Dictionary<string, string?>
        {
            ["Gateway:PublicUrl"] = "http://127.0.0.1:0",
            ["Gateway:ManagementUrl"] = "http://127.0.0.1:0",
            ["Gateway:TagIds:0"] = "G-ABC123XYZ9",
            ["Gateway:Demo:Enabled"] = "false",
            ["Gateway:Upstreams:TagGatewayOrigin"] = _upstream.Origin,
            ["Gateway:Forwarding:Client"] = Client,
            ["Cookies:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        _app = GatewayHost.Create([], builder => builder.Configuration.AddInMemoryCollection(values));
        _forwarder = _app.Services.GetRequiredService<HitForwarder>();
        _consent = _app.Services.GetRequiredService<IConsentPolicy>().Decide(default, "DE");
        _target = new UpstreamTarget(_upstream.Origin + Target, "g-abc123xyz9.fps.goog");

        _context = BenchRequest.Context(out _request);
        BenchRequest.AddBrowserHeaders(_request.Headers, "_ga=GA1.1.1162820436.1749482504; session=eyJhbGciOi; _fbp=fb.1.1642973591141.184636131");
        _request.Method = "POST";
        _request.Path = "/metrics/g/collect";
        _request.QueryString = Target[Target.IndexOf('?', StringComparison.Ordinal)..];

        var query = Target[(Target.IndexOf('?', StringComparison.Ordinal) + 1)..];
        HitFacts.TryParse("/g/collect", query, out var facts);
        _hit = new HitRequest(facts, query, _client, globalPrivacyControl: false, default, _consent);
        var body = ArrayPool<byte>.Shared.Rent(BenchRequest.CollectBody.Length);
        BenchRequest.CollectBody.CopyTo(body, 0);
        _hit.SetBody(body, BenchRequest.CollectBody.Length);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hit.Dispose();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _upstream.Dispose();
    }

    [Benchmark]
    public async Task ForwardHit()
    {
        _context.Response.Headers.Clear();
        _context.Response.StatusCode = 200;
        var result = await _forwarder.ForwardAsync(_context, _target, _client, _consent, "ga4_hit", _hit);
        if (result != ForwarderError.None || _context.Response.StatusCode != StatusCodes.Status204NoContent)
        {
            throw new InvalidOperationException($"The hit was not forwarded: {result}, {_context.Response.StatusCode}.");
        }
    }
}

/// <summary>
/// A loopback HTTP/1.1 server answering every request with a fixed collect response (204, Set-Cookie, Google's
/// cache headers), one blocking thread per keep-alive connection, no allocation per request.
/// </summary>
internal sealed class LoopbackCollectUpstream : IDisposable
{
    private static readonly byte[] Response = Encoding.ASCII.GetBytes(
        "HTTP/1.1 204 No Content\r\n" +
        "Access-Control-Allow-Origin: https://shop.example.com\r\n" +
        "Access-Control-Allow-Credentials: true\r\n" +
        "Content-Type: text/plain\r\n" +
        "Cross-Origin-Resource-Policy: cross-origin\r\n" +
        "Set-Cookie: FPLC=abc%2Fdef; Path=/; Max-Age=72000; Secure; SameSite=Lax\r\n" +
        "Date: Tue, 01 Dec 2026 15:00:00 GMT\r\n" +
        "Pragma: no-cache\r\n" +
        "Expires: Fri, 01 Jan 1990 00:00:00 GMT\r\n" +
        "Cache-Control: no-cache, no-store, must-revalidate\r\n" +
        "Server: Golfe2\r\n" +
        "Content-Length: 0\r\n\r\n");

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    private LoopbackCollectUpstream()
    {
    }

    public string Origin => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";

    public static LoopbackCollectUpstream Start()
    {
        var upstream = new LoopbackCollectUpstream();
        upstream._listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        upstream._listener.Listen(64);
        new Thread(upstream.Accept) { IsBackground = true }.Start();
        return upstream;
    }

    private void Accept()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            connection.NoDelay = true;
            new Thread(() => Serve(connection)) { IsBackground = true }.Start();
        }
    }

    private static void Serve(Socket connection)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        try
        {
            while (true)
            {
                var read = connection.Receive(buffer.AsSpan(length));
                if (read == 0)
                {
                    return;
                }

                length += read;
                while (TryRequestLength(buffer.AsSpan(0, length), out var requestLength))
                {
                    connection.Send(Response);
                    buffer.AsSpan(requestLength, length - requestLength).CopyTo(buffer);
                    length -= requestLength;
                }
            }
        }
        catch (SocketException)
        {
        }
        finally
        {
            connection.Dispose();
        }
    }

    private static bool TryRequestLength(ReadOnlySpan<byte> data, out int length)
    {
        length = 0;
        var headEnd = data.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            return false;
        }

        var head = data[..headEnd];
        var contentLength = 0;
        var at = head.IndexOf("\r\nContent-Length: "u8);
        if (at >= 0)
        {
            var digits = head[(at + 18)..];
            for (var i = 0; i < digits.Length && digits[i] is >= (byte)'0' and <= (byte)'9'; i++)
            {
                contentLength = (contentLength * 10) + (digits[i] - '0');
            }
        }

        length = headEnd + 4 + contentLength;
        return data.Length >= length;
    }

    public void Dispose() => _listener.Dispose();
}
