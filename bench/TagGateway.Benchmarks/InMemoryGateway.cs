using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
