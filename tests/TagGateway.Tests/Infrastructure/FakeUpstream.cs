using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TagGateway.Tests.Infrastructure;

/// <summary>One request as the fake upstream received it.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, string? Host, IReadOnlyDictionary<string, string[]> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var values) ? string.Join(", ", values) : null;
}

/// <summary>
/// A real HTTP server on 127.0.0.1 standing in for Google (or any upstream): records every request and answers
/// with whatever the test's handler writes.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private FakeUpstream(WebApplication app) => _app = app;

    /// <summary>What the upstream answers; the default is 204 with no body.</summary>
    public Func<HttpContext, RecordedRequest, Task> Handler { get; set; } = static (context, _) =>
    {
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    };

    public Uri Origin { get; private set; } = null!;

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    public int Count => _requests.Count;

    public RecordedRequest Last => _requests.Last();

    public static async Task<FakeUpstream> StartAsync(Func<HttpContext, RecordedRequest, Task>? handler = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var upstream = new FakeUpstream(app);
        if (handler is not null)
        {
            upstream.Handler = handler;
        }

        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase);
            var recorded = new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, context.Request.Headers.Host, headers, body.ToArray());
            upstream._requests.Enqueue(recorded);
            await upstream.Handler(context, recorded);
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.Origin = new Uri(address);
        return upstream;
    }

    /// <summary>A loopback origin where nothing listens: connections are refused at once.</summary>
    public static Uri ClosedOrigin()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return new Uri($"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
