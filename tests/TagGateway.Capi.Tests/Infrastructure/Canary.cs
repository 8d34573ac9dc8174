using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TagGateway.Capi.Tests.Infrastructure;

/// <summary>
/// A second real loopback server that a fake platform redirects to: anything it receives (a followed redirect,
/// with the token that came along) is recorded, so a test can assert it received nothing.
/// </summary>
public sealed class Canary : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _received = new();

    private Canary(WebApplication app)
    {
        _app = app;
    }

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyCollection<string> Received => [.. _received];

    public static async Task<Canary> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        var canary = new Canary(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string body = await reader.ReadToEndAsync();
            canary._received.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} {context.Request.Headers.Authorization} {body}");
            context.Response.StatusCode = 200;
            await context.Response.WriteAsync("""{"events_received":1,"code":0,"requestId":"x","elements":[{"status":201}],"access_token":"stolen","expires_in":3600}""");
        });
        await app.StartAsync();
        canary.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return canary;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
