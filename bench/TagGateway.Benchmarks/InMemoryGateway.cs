using System.Net;
using Microsoft.Extensions.Configuration;
using TagGateway.Forwarding;

namespace TagGateway.Benchmarks;

/// <summary>
/// The gateway's real services (built by GatewayHost, never started) over an in-memory upstream, so a benchmark
/// counts what the gateway itself does and allocates per request, not the network.
/// </summary>
internal static class InMemoryGateway
{
    public static WebApplication Create(HttpMessageHandler upstream, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Gateway:PublicUrl"] = "http://127.0.0.1:0",
            ["Gateway:ManagementUrl"] = "http://127.0.0.1:0",
            ["Gateway:TagIds:0"] = "G-ABC123XYZ9",
            ["Gateway:TagIds:1"] = "GTM-P9TXQF82",
            ["Gateway:Demo:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return GatewayHost.Create([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            builder.Services.AddSingleton(new UpstreamClients(upstream, upstream));
        });
    }
}

/// <summary>A reusable request as Kestrel would hand it over, and the body and headers a browser's GA4 hit carries.</summary>
internal static class BenchRequest
{
    public const string CollectTarget = "/metrics/g/collect?v=2&tid=G-ABC123XYZ9&gtm=45je5bi1v9117590405za200&_p=1749482504123&gcs=G111&gcd=13r3r3r3r5l1&cid=1162820436.1749482504&ul=en-us&sr=1920x1080&_s=3&sid=1749482504&sct=4&seg=1&dl=https%3A%2F%2Fshop.example.com%2Fcheckout&dt=Checkout";

    public static readonly byte[] CollectBody = System.Text.Encoding.ASCII.GetBytes("en=page_view&_et=12\r\nen=scroll&epn.percent_scrolled=90\r\nen=add_to_cart&pr1=idSKU_1~nmTee~pr10.01~qt1");

    /// <summary>A context over a settable request feature, with the response body going nowhere.</summary>
    public static Microsoft.AspNetCore.Http.DefaultHttpContext Context(out Microsoft.AspNetCore.Http.Features.HttpRequestFeature request)
    {
        request = new Microsoft.AspNetCore.Http.Features.HttpRequestFeature();
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>(request);
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>(new Microsoft.AspNetCore.Http.StreamResponseBodyFeature(Stream.Null));
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        return context;
    }

    /// <summary>What Safari sends with a hit's POST.</summary>
    public static void AddBrowserHeaders(Microsoft.AspNetCore.Http.IHeaderDictionary headers, string cookie)
    {
        headers["Host"] = "shop.example.com";
        headers["User-Agent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
        headers["Accept"] = "*/*";
        headers["Accept-Language"] = "en-US,en;q=0.9";
        headers["Content-Type"] = "text/plain;charset=UTF-8";
        headers["Content-Length"] = CollectBody.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["Origin"] = "https://shop.example.com";
        headers["Referer"] = "https://shop.example.com/checkout";
        headers["Cookie"] = cookie;
    }
}

/// <summary>Answers every request like Google's collect endpoint: 204, a Set-Cookie, no body.</summary>
internal sealed class CollectUpstream : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = new HttpResponseMessage(HttpStatusCode.NoContent) { RequestMessage = request, Content = new ByteArrayContent([]) };
        response.Headers.TryAddWithoutValidation("Set-Cookie", "FPLC=abc; Path=/; Max-Age=72000; Secure");
        return Task.FromResult(response);
    }
}
