using System.Threading.Channels;

namespace TagGateway.Scripts;

/// <summary>
/// The highest compression levels (Brotli 11 takes about half a second for a 340 KB gtag.js), off the request path,
/// one script at a time: however many keys miss, these passes take at most one core. A variant is queued when it is
/// served from the cache for the first time, not when it is fetched, so a key asked for once (a cache-busting
/// request within the miss budget) never costs a Brotli-11 pass. The queue is short; a variant that finds it full
/// keeps its fast bodies and is queued again on a later hit.
/// </summary>
internal sealed partial class ScriptCompressor : IDisposable
{
    private const int QueueLength = 16;

    private readonly Channel<Job> _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(QueueLength)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly ScriptCache _cache;
    private readonly ILogger<ScriptCompressor> _logger;
    private readonly CancellationTokenSource _stopping = new();

    public ScriptCompressor(ScriptCache cache, ILogger<ScriptCompressor> logger)
    {
        _cache = cache;
        _logger = logger;
        _ = Task.Run(WorkAsync);
    }

    /// <summary>Queues the best compression of a variant still holding its uncompressed body; at most once at a time per variant.</summary>
    public void Schedule(string primaryKey, string varyKey, CachedScript fast)
    {
        if (fast.Uncompressed is null || Interlocked.CompareExchange(ref fast.BestCompressionQueued, 1, 0) != 0)
        {
            return;
        }

        if (!_queue.Writer.TryWrite(new Job(primaryKey, varyKey, fast)))
        {
            // Full: a later hit on this variant tries again.
            Volatile.Write(ref fast.BestCompressionQueued, 0);
        }
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                // Memory goes back to the OS once per drained queue, not once per script.
                CompressionMemory.Started();
                try
                {
                    while (reader.TryRead(out var job))
                    {
                        Compress(job);
                    }
                }
                finally
                {
                    CompressionMemory.Finished();
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: the fast bodies serve until then.
        }
    }

    private void Compress(Job job)
    {
        try
        {
            var best = ScriptFetcher.CompressBest(job.Fast);
            _cache.ReplaceBodies(job.PrimaryKey, job.VaryKey, best);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OutOfMemoryException)
        {
            Volatile.Write(ref job.Fast.BestCompressionQueued, 0);
            Log.CompressionFailed(_logger, job.PrimaryKey, ex);
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private sealed record Job(string PrimaryKey, string VaryKey, CachedScript Fast);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1303, Level = LogLevel.Error, Message = "Best compression of {Key} failed; its fast bodies stay")]
        public static partial void CompressionFailed(ILogger logger, string key, Exception exception);
    }
}
