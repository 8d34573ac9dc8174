using System.Net;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;

namespace TagGateway.Benchmarks.ClientIdentity;

/// <summary>Resolving the visitor's IP and CC-RR geolocation from each kind of edge.</summary>
[MemoryDiagnoser]
public class ClientInfoBenchmarks
{
    private ClientInfoResolver _cloudflareWorker = null!;
    private ClientInfoResolver _gclb = null!;
    private ClientInfoResolver _reverseProxy = null!;
    private DefaultHttpContext _workerRequest = null!;
    private DefaultHttpContext _gclbRequest = null!;
    private DefaultHttpContext _proxyRequest = null!;

    [GlobalSetup]
    public void Setup()
    {
        const string secret = "0123456789abcdef0123456789abcdef";
        _cloudflareWorker = Resolver(EdgeKind.CloudflareWorker, secret);
        _gclb = Resolver(EdgeKind.GoogleLoadBalancer, null);
        _reverseProxy = Resolver(EdgeKind.ReverseProxy, null);

        _workerRequest = Request(("X-TagGateway-Client-IP", "203.0.113.50"), ("X-TagGateway-Country", "DE"), ("X-TagGateway-Region", "BE"), ("X-TagGateway-Proto", "https"), ("X-TagGateway-Secret", secret));
        _gclbRequest = Request(("X-Forwarded-For", "198.51.100.23, 34.120.1.1"), ("X-Gclb-Country", "US"), ("X-Gclb-Region", "USCA"), ("X-Forwarded-Proto", "https"));
        _proxyRequest = Request(("X-Forwarded-For", "198.51.100.77, 127.0.0.1"), ("X-Forwarded-CountryRegion", "FR-IDF"));

        // Warm the geo intern table as steady traffic would.
        Cloudflare_worker();
        Google_load_balancer();
        Reverse_proxy();
    }

    private static ClientInfoResolver Resolver(EdgeKind edge, string? secret) => new(new GatewayOptions
    {
        ClientIdentity = new ClientIdentityOptions { Edge = edge, EdgeSecret = secret, TrustedProxies = ["127.0.0.1/32"] },
    });

    private static DefaultHttpContext Request(params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        return context;
    }

    [Benchmark]
    public string? Cloudflare_worker() => _cloudflareWorker.Resolve(_workerRequest).CountryRegion;

    [Benchmark]
    public string? Google_load_balancer() => _gclb.Resolve(_gclbRequest).CountryRegion;

    [Benchmark]
    public string? Reverse_proxy() => _reverseProxy.Resolve(_proxyRequest).CountryRegion;
}
