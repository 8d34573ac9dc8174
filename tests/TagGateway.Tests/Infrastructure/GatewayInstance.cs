using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Hosting;

namespace TagGateway.Tests.Infrastructure;

/// <summary>The real gateway host on Kestrel at 127.0.0.1, with test configuration and an optional fake clock.</summary>
public sealed class GatewayInstance : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayInstance(WebApplication app, IPEndPoint publicEndPoint, IPEndPoint managementEndPoint)
    {
        _app = app;
        PublicEndPoint = publicEndPoint;
        Public = CreateClient(publicEndPoint);
        Management = CreateClient(managementEndPoint);
    }

    public IPEndPoint PublicEndPoint { get; }

    /// <summary>A browser-like client without cookie jar, redirects or decompression: tests see the wire.</summary>
    public HttpClient Public { get; }

    public HttpClient Management { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Settings every test starts from: loopback listeners on free ports, TagGateway mode toward <paramref name="upstream"/>.</summary>
    public static Dictionary<string, string?> Settings(Uri upstream, params string[] tagIds) => new()
    {
        ["Gateway:PublicUrl"] = "http://127.0.0.1:0",
        ["Gateway:ManagementUrl"] = "http://127.0.0.1:0",
        ["Gateway:MeasurementPath"] = "/metrics",
        ["Gateway:Demo:Enabled"] = "false",
        ["Gateway:Upstreams:TagGatewayOrigin"] = upstream.GetLeftPart(UriPartial.Authority),
        ["Gateway:Upstreams:TagManager"] = upstream.GetLeftPart(UriPartial.Authority),
        ["Gateway:Upstreams:Analytics"] = upstream.GetLeftPart(UriPartial.Authority),
        ["Gateway:Upstreams:Ads"] = upstream.GetLeftPart(UriPartial.Authority),
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:Console:FormatterName"] = "simple",
        [$"Gateway:TagIds:0"] = tagIds.Length > 0 ? tagIds[0] : "G-TEST1234",
        [$"Gateway:TagIds:1"] = tagIds.Length > 1 ? tagIds[1] : "GTM-TEST567",
    };

    /// <param name="services">Replaces services before the host registers its own (which it adds only when missing).</param>
    public static async Task<GatewayInstance> StartAsync(Dictionary<string, string?> settings, FakeTimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var app = GatewayHost.Create([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            if (time is not null)
            {
                builder.Services.AddSingleton<TimeProvider>(time);
            }

            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var listeners = app.Services.GetRequiredService<Listeners>();
        return new GatewayInstance(app, listeners.EndPointOf(ListenerKind.Public)!, listeners.EndPointOf(ListenerKind.Management)!);
    }

    private static HttpClient CreateClient(IPEndPoint endPoint) => new(new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
    })
    {
        BaseAddress = new Uri($"http://{endPoint}"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Sends raw bytes (for targets HttpClient would normalise) and returns the status line's code.</summary>
    public async Task<int> SendRawAsync(string requestHead)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(PublicEndPoint);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requestHead));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var line = Encoding.ASCII.GetString(buffer, 0, read);
        var parts = line.Split(' ', 3);
        return int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        Public.Dispose();
        Management.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
