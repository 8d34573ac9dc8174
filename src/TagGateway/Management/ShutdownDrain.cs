using System.Runtime.InteropServices;
using TagGateway.Configuration;

namespace TagGateway.Management;

/// <summary>
/// The drain on SIGTERM. The host fires ApplicationStopping first, which turns <c>/readyz</c> 503; this service then
/// holds the host's stop for <c>Gateway:ShutdownDelay</c> while both listeners keep serving, so a load balancer's health
/// check sees the 503 and stops sending before anything is refused. Then the host stops Kestrel, which stops accepting
/// and lets in-flight requests finish within the host's shutdown timeout, and the process exits 0.
/// Only a termination signal waits: a stop from code (tests, an embedding host) or Ctrl+C has no load balancer to tell.
/// </summary>
internal sealed partial class ShutdownDrain : IHostedLifecycleService, IDisposable
{
    private readonly TimeSpan _delay;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger<ShutdownDrain> _logger;
    private readonly PosixSignalRegistration? _terminate;
    private readonly CancellationTokenSource _serving = new();
    private volatile bool _terminated;

    public ShutdownDrain(GatewayOptions options, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ShutdownDrain> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _delay = options.ShutdownDelay;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;

        // Registered when the host is built, before the console lifetime registers its own at start, so this runs first
        // and the flag is set before the stop it triggers reads it. It also requests the stop, so the signal works
        // whichever host lifetime is in use.
        if (_delay > TimeSpan.Zero && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
        }
    }

    /// <summary>Cancelled when the listeners stop accepting: work that may outlive ApplicationStopping but not the drain.</summary>
    public CancellationToken ListenersClosing => _serving.Token;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_terminated)
            {
                LogDelaying(_delay);
                await Task.Delay(_delay, _time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout: stop now (validation keeps the delay shorter than it).
        }
        finally
        {
            LogClosing();
            await _serving.CancelAsync();
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _terminate?.Dispose();
        _serving.Dispose();
    }

    private void OnTerminate(PosixSignalContext context)
    {
        _terminated = true;
        context.Cancel = true;
        _lifetime.StopApplication();
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "SIGTERM: /readyz answers 503; serving for {Delay} more so the load balancer sees it, then draining")]
    private partial void LogDelaying(TimeSpan delay);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Closing the listeners; in-flight requests drain within the shutdown timeout")]
    private partial void LogClosing();
}
