using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TagGateway.Hosting;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Lifecycle;

/// <summary>
/// The real gateway host on Kestrel at 127.0.0.1 with its log lines captured (the host clears logging providers while it
/// is built, so the capture joins the logger factory afterwards, before the host starts and logs its start-up).
/// </summary>
public sealed class LifecycleHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LifecycleHost(WebApplication app, CapturedLogs logs)
    {
        _app = app;
        Logs = logs;
        var listeners = app.Services.GetRequiredService<Listeners>();
        PublicEndPoint = listeners.EndPointOf(ListenerKind.Public)!;
        ManagementEndPoint = listeners.EndPointOf(ListenerKind.Management)!;
        Public = Client(PublicEndPoint);
        Management = Client(ManagementEndPoint);
    }

    public CapturedLogs Logs { get; }

    public IPEndPoint PublicEndPoint { get; }

    public IPEndPoint ManagementEndPoint { get; }

    public HttpClient Public { get; }

    public HttpClient Management { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LifecycleHost> StartAsync(Dictionary<string, string?> settings)
    {
        var logs = new CapturedLogs();
        var app = GatewayHost.Create([], builder => builder.Configuration.AddInMemoryCollection(settings));
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        await app.StartAsync();
        return new LifecycleHost(app, logs);
    }

    public static HttpClient Client(IPEndPoint endPoint) => new(new SocketsHttpHandler { UseCookies = false, UseProxy = false, AllowAutoRedirect = false })
    {
        BaseAddress = new Uri($"http://{endPoint}"),
        Timeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>The value of one Prometheus series, or null when it is not rendered.</summary>
    public async Task<double?> MetricAsync(string series)
    {
        var text = await Management.GetStringAsync("/metrics");
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line.AsSpan(series.Length + 1), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>This process's resident set, read afresh.</summary>
    public static long ResidentBytes()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }

    public async ValueTask DisposeAsync()
    {
        Public.Dispose();
        Management.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
