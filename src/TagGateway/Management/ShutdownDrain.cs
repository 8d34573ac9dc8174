using System.Runtime.InteropServices;
using TagGateway.Configuration;

namespace TagGateway.Management;

/// <summary>
/// The host's lifetime, with a drain on SIGTERM. On SIGTERM <c>/readyz</c> answers 503 at once (<see cref="Draining"/>)
/// while both listeners keep serving for <c>Gateway:ShutdownDelay</c>, so a load balancer's health check sees it and stops
/// sending before anything is refused; only then is the application stopped: Kestrel stops accepting and lets in-flight
/// requests finish within the host's shutdown timeout, and the process exits 0.
/// It replaces the console lifetime because that one stops the application on SIGTERM at once, and the order in which
/// several handlers of one signal run (and whether the later ones run at all once one cancels it) is the runtime's
/// detail. SIGINT (Ctrl+C) and SIGQUIT stop at once, as a stop from code does: there is no load balancer to tell.
/// </summary>
internal sealed partial class ShutdownDrain : IHostLifetime, IDisposable
{
    private readonly TimeSpan _delay;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger<ShutdownDrain> _logger;
    private readonly List<PosixSignalRegistration> _signals = [];
    private volatile bool _draining;

    public ShutdownDrain(GatewayOptions options, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ShutdownDrain> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _delay = options.ShutdownDelay;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
    }

    /// <summary>A SIGTERM arrived: not ready, though still serving until the delay ends.</summary>
    public bool Draining => _draining;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop));
            _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop));
            _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Terminate));
        }
        else if (OperatingSystem.IsWindows())
        {
            _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop));
            _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Terminate));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        _lifetime.StopApplication();
    }

    private void Terminate(PosixSignalContext context)
    {
        context.Cancel = true;
        if (_delay <= TimeSpan.Zero || _draining)
        {
            // No delay configured, or a second SIGTERM: stop now.
            _lifetime.StopApplication();
            return;
        }

        _draining = true;
        Log.Delaying(_logger, _delay);
        _ = StopAfterDelayAsync();
    }

    private async Task StopAfterDelayAsync()
    {
        try
        {
            await Task.Delay(_delay, _time, _lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException)
        {
            // Stopped meanwhile by other means.
        }

        Log.Closing(_logger);
        _lifetime.StopApplication();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "SIGTERM: /readyz answers 503; serving for {Delay} more so the load balancer sees it, then draining")]
        public static partial void Delaying(ILogger logger, TimeSpan delay);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Closing the listeners; in-flight requests drain within the shutdown timeout")]
        public static partial void Closing(ILogger logger);
    }
}
