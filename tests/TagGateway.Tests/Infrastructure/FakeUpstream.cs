using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using TagGateway.TestKit.Loopback;

namespace TagGateway.Tests.Infrastructure;

/// <summary>One request as the fake upstream received it.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, string? Host, IReadOnlyDictionary<string, string[]> Headers, byte[] Body)
{
    /// <summary>HTTP/1.1 or HTTP/2.</summary>
    public string Protocol { get; init; } = string.Empty;

    /// <summary>Kestrel's id of the connection that carried the request.</summary>
    public string ConnectionId { get; init; } = string.Empty;

    /// <summary>The server name the TLS client sent (SNI); null over plain HTTP or when none was sent.</summary>
    public string? ServerName { get; init; }

    /// <summary>Whether the request came over TLS.</summary>
    public bool Tls { get; init; }

    public string? Header(string name) => Headers.TryGetValue(name, out var values) ? string.Join(", ", values) : null;
}

/// <summary>
/// A real HTTP server on 127.0.0.1 standing in for Google (or any upstream): records every request and answers
/// with whatever the test's handler writes.
/// </summary>
public sealed class FakeUpstream : LoopbackServer
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, string> _serverNames = new(StringComparer.Ordinal);

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

    /// <summary>
    /// The same upstream over TLS (HTTP/1.1 and HTTP/2) with <paramref name="certificate"/>; its origin is
    /// <c>https://localhost:port</c>, a name, so the gateway sends SNI and checks the certificate against it.
    /// </summary>
    public static async Task<FakeUpstream> StartTlsAsync(X509Certificate2 certificate, Func<HttpContext, RecordedRequest, Task>? handler = null)
    {
        var upstream = new FakeUpstream();
        if (handler is not null)
        {
            upstream.Handler = handler;
        }

        await ListenAsync(upstream, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                // Kestrel hands the selector the SNI the client sent: recorded per connection for the requests it carries.
                ServerCertificateSelector = (connection, serverName) =>
                {
                    if (connection is not null)
                    {
                        upstream._serverNames[connection.ConnectionId] = serverName ?? string.Empty;
                    }

                    return certificate;
                },
            });
        });
        upstream.TlsOrigin = new Uri($"https://{TestCertificates.UpstreamHost}:{upstream.Origin.Port}");
        return upstream;
    }

    /// <summary>For a TLS upstream, its origin by host name (<see cref="LoopbackServer.Origin"/> has the address).</summary>
    public Uri? TlsOrigin { get; private set; }

    protected override void Map(WebApplication app) => app.Run(async context =>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase);
        var tls = context.Features.Get<ITlsHandshakeFeature>();
        var recorded = new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, context.Request.Headers.Host, headers, body.ToArray())
        {
            Protocol = context.Request.Protocol,
            ConnectionId = context.Connection.Id,
            ServerName = tls is null ? null : _serverNames.GetValueOrDefault(context.Connection.Id),
            Tls = tls is not null,
        };
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
