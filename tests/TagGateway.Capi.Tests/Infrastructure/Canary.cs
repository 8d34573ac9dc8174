using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TagGateway.TestKit.Loopback;

namespace TagGateway.Capi.Tests.Infrastructure;

/// <summary>
/// A second real loopback server that a fake platform redirects to: anything it receives (a followed redirect,
/// with the token that came along) is recorded, so a test can assert it received nothing.
/// </summary>
public sealed class Canary : LoopbackServer
{
    private readonly ConcurrentQueue<string> _received = new();

    private Canary()
    {
    }

    public IReadOnlyCollection<string> Received => [.. _received];

    public static Task<Canary> StartAsync() => ListenAsync(new Canary());

    protected override void Map(WebApplication app) => app.Run(async context =>
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        _received.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} {context.Request.Headers.Authorization} {body}");
        context.Response.StatusCode = 200;
        await context.Response.WriteAsync("""{"events_received":1,"code":0,"requestId":"x","elements":[{"status":201}],"access_token":"stolen","expires_in":3600}""");
    });
}
