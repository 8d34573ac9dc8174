using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TagGateway.TestKit.Loopback;

namespace TagGateway.TestKit.Capi;

/// <summary>The real gateway host (GatewayHost.Create) on loopback ports, with CAPI configured against the fakes.</summary>
public sealed class CapiGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CapiGateway(WebApplication app, int publicPort, int managementPort, FakeLogCollector logs)
    {
        _app = app;
        Logs = logs;
        Public = Client(publicPort);
        Management = Client(managementPort);
    }

    public HttpClient Public { get; }

    public HttpClient Management { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Every log line the host wrote at the configured levels (the host replaces providers added before its build, so this is added after).</summary>
    public FakeLogCollector Logs { get; }

    public static Dictionary<string, string?> GatewaySettings(FakePlatforms fake, int publicPort, int managementPort) => new()
    {
        ["Gateway:PublicUrl"] = $"http://127.0.0.1:{publicPort}",
        ["Gateway:ManagementUrl"] = $"http://127.0.0.1:{managementPort}",
        ["Gateway:MeasurementPath"] = "/metrics",
        ["Gateway:Demo:Enabled"] = "false",
        ["Gateway:TagIds:0"] = "G-TEST1234",
        ["Gateway:Upstreams:TagGatewayOrigin"] = fake.Url,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:Console:FormatterName"] = "simple",
    };

    public static Task<CapiGateway> StartAsync(FakePlatforms fake, Dictionary<string, string?> capi) => StartAsync(fake, capi, configure: null);

    /// <summary>As above; <paramref name="configure"/> adds to the host (a log collector, a FakeTimeProvider …).</summary>
    public static async Task<CapiGateway> StartAsync(FakePlatforms fake, Dictionary<string, string?> capi, Action<WebApplicationBuilder>? configure)
    {
        for (var attempt = 1; ; attempt++)
        {
            var ports = LoopbackPorts.Distinct(2);
            var (publicPort, managementPort) = (ports[0], ports[1]);
            var settings = GatewaySettings(fake, publicPort, managementPort);
            foreach ((var key, var value) in capi)
            {
                settings[key] = value;
            }

            var app = GatewayHost.Create([], builder =>
            {
                builder.Configuration.AddInMemoryCollection(settings);
                configure?.Invoke(builder);
            });
            var logs = new FakeLogCollector();
            app.Services.GetRequiredService<ILoggerFactory>().AddProvider(new FakeLoggerProvider(logs));
            try
            {
                await app.StartAsync();
                return new CapiGateway(app, publicPort, managementPort, logs);
            }
            catch (IOException ex) when (attempt < 3 && ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // A free port is only free until another test binds it: take a fresh pair.
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>The gateway as a real process (dotnet TagGateway.dll), configured through the environment only.</summary>
    public static System.Diagnostics.ProcessStartInfo ProcessStartInfo(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "TagGateway.dll"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach ((var key, var value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return info;
    }

    public static HttpClient Client(int port) => new(new SocketsHttpHandler { UseCookies = false, UseProxy = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>POSTs server-to-server events with the test key.</summary>
    public static async Task<HttpResponseMessage> PostEventsAsync(HttpClient client, string json, string? key = TestKeys.ApiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/capi/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Sends a GA4 collect hit through the measurement path as a browser would.</summary>
    public async Task<HttpResponseMessage> SendHitAsync(string query, string? body = null, string? cookie = null, string? region = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?" + query)
        {
            Content = new StringContent(body ?? string.Empty, Encoding.UTF8, "text/plain"),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Test/1.0");
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        if (region is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-CountryRegion", region);
        }

        return await Public.SendAsync(request);
    }

    public async Task<JsonElement> GetJsonAsync(string path) => await Management.GetFromJsonAsync<JsonElement>(path);

    public async ValueTask DisposeAsync()
    {
        Public.Dispose();
        Management.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
