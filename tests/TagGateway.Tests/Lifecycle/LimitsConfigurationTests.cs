using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Lifecycle;

/// <summary>Gateway:Limits and Gateway:ShutdownDelay are validated at start with every error at once.</summary>
public sealed class LimitsConfigurationTests
{
    [Fact]
    public void Bad_limits_are_refused_at_start_each_named()
    {
        var settings = GatewayInstance.Settings(new Uri("http://127.0.0.1:9"));
        settings["Gateway:Limits:MaxConnections"] = "0";
        settings["Gateway:Limits:MaxManagementConnections"] = "0";
        settings["Gateway:Limits:RequestHeadersTimeout"] = "00:00:00";
        settings["Gateway:Limits:KeepAliveTimeout"] = "1.00:00:00";
        settings["Gateway:Limits:MinRequestBodyGracePeriod"] = "00:00:01";
        settings["Gateway:ShutdownDelay"] = "-00:00:01";

        var error = Assert.Throws<GatewayConfigurationException>(() => GatewayHost.Create([], b => b.Configuration.AddInMemoryCollection(settings)));

        Assert.Contains(error.Errors, e => e.Contains("MaxConnections", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("MaxManagementConnections", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("Gateway:Limits:RequestHeadersTimeout", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("Gateway:Limits:KeepAliveTimeout", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("Gateway:Limits:MinRequestBodyGracePeriod", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("Gateway:ShutdownDelay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stop_from_code_does_not_wait_for_the_shutdown_delay()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ShutdownDelay"] = "00:00:20";
        var app = GatewayHost.Create([], b => b.Configuration.AddInMemoryCollection(settings));
        await app.StartAsync();

        // No SIGTERM, so no load balancer to tell: the host stops without the 20 s delay.
        var stop = app.StopAsync();
        var finished = await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(15)));
        Assert.Same(stop, finished);
        Assert.True(app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.IsCancellationRequested);
        await app.DisposeAsync();
    }
}
