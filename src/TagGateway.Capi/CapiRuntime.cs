using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Delivery;
using TagGateway.Capi.Ingest;
using TagGateway.Capi.Storage;

namespace TagGateway.Capi;

/// <summary>
/// The module's lifetime: opens (and replays) the store before the listeners accept anything, then runs the hit
/// pipeline and one delivery loop per destination; on stop, ends them and closes the store. Registered only when a
/// destination is configured.
/// </summary>
internal sealed partial class CapiRuntime : IHostedService, IAsyncDisposable
{
    private readonly ICapiStore _store;
    private readonly HitPipeline _pipeline;
    private readonly IEnumerable<DeliveryWorker> _workers;
    private readonly ILogger<CapiRuntime> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;

    public CapiRuntime(ICapiStore store, HitPipeline pipeline, IEnumerable<DeliveryWorker> workers, ILogger<CapiRuntime> logger)
    {
        _store = store;
        _pipeline = pipeline;
        _workers = workers;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _store.OpenAsync(cancellationToken);
        var tasks = new List<Task> { Task.Run(() => _pipeline.RunAsync(_stopping.Token), CancellationToken.None) };
        foreach (var worker in _workers)
        {
            tasks.Add(Task.Run(() => RunWorkerAsync(worker), CancellationToken.None));
        }

        _running = Task.WhenAll(tasks);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _running.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout won: the store replays whatever was in flight.
        }

        await _store.DisposeAsync();
    }

    private async Task RunWorkerAsync(DeliveryWorker worker)
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await worker.RunAsync(_stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A bug must not end delivery for good: log, pause, resume (the events are still stored).
                Log.WorkerFailed(_logger, worker.Destination.ToString(), ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        await _store.DisposeAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5106, Level = LogLevel.Error, Message = "CAPI delivery to {Destination} failed unexpectedly; resuming in 5 s")]
        public static partial void WorkerFailed(ILogger logger, string destination, Exception exception);
    }
}
