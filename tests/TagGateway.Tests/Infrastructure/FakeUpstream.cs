using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TagGateway.TestKit.Loopback;

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
public sealed class FakeUpstream : LoopbackServer
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private FakeUpstream()
    {
    }

    /// <summary>What the upstream answers; the default is 204 with no body.</summary>
    public Func<HttpContext, RecordedRequest, Task> Handler { get; set; } = static (context, _) =>
    {
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    };

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    public int Count => _requests.Count;

    public RecordedRequest Last => _requests.Last();

    public static Task<FakeUpstream> StartAsync(Func<HttpContext, RecordedRequest, Task>? handler = null)
    {
        var upstream = new FakeUpstream();
        if (handler is not null)
        {
            upstream.Handler = handler;
        }

        return ListenAsync(upstream);
    }

    protected override void Map(WebApplication app) => app.Run(async context =>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, context.Request.Headers.Host, headers, body.ToArray());
        _requests.Enqueue(recorded);
        await Handler(context, recorded);
    });

    /// <summary>A loopback origin where nothing listens: connections are refused at once.</summary>
    public static Uri ClosedOrigin()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return new Uri($"http://127.0.0.1:{port}");
    }
}
