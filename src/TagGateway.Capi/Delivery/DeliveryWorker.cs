using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Quality;
using TagGateway.Capi.Storage;

namespace TagGateway.Capi.Delivery;

/// <summary>
/// Sends one destination's events: takes ready events in batches up to the platform's limit, drops those older than
/// the platform accepts (before they can fail a whole batch), sends, and records the outcome in the store. A
/// retryable failure (after the pipeline's own retries) puts the batch back and backs the destination off, doubling
/// up to <see cref="DeliveryOptions.MaxBackoff"/> and never shorter than a Retry-After; a non-retryable one moves the
/// batch to the dead letters with the platform's error, without retrying.
/// </summary>
internal sealed partial class DeliveryWorker
{
    private readonly DestinationClient _client;
    private readonly ICapiStore _store;
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly CapiMetrics _metrics;
    private readonly MatchQualityTracker _quality;
    private readonly ILogger _logger;

    public DeliveryWorker(DestinationClient client, ICapiStore store, DeliveryOptions options, TimeProvider time, CapiMetrics metrics, MatchQualityTracker quality, ILogger logger)
    {
        _client = client;
        _store = store;
        _options = options;
        _time = time;
        _metrics = metrics;
        _quality = quality;
        _logger = logger;
    }

    public CapiDestination Destination => _client.Destination;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        CapiDestination d = _client.Destination;
        TimeSpan backoff = _options.MinBackoff;
        var batch = new List<CapiEvent>(_client.MaxBatch);
        while (!cancellationToken.IsCancellationRequested)
        {
            batch.Clear();
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (await _store.TakeReadyAsync(d, now, _client.MaxBatch, batch, cancellationToken).ConfigureAwait(false) == 0)
            {
                TimeSpan wait = _options.PollInterval;
                if (_store.NextReadyMs(d) is { } next && next > now)
                {
                    wait = TimeSpan.FromMilliseconds(Math.Clamp(next - now, 1, wait.TotalMilliseconds));
                }

                await _store.WaitForWorkAsync(d, wait, cancellationToken).ConfigureAwait(false);
                continue;
            }

            List<CapiEvent> fresh = await DropStaleAsync(batch, now, cancellationToken).ConfigureAwait(false);
            if (fresh.Count == 0)
            {
                continue;
            }

            DeliveryResult result;
            long started = Stopwatch.GetTimestamp();
            try
            {
                result = await _client.SendAsync(fresh, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _store.Release(d, fresh);
                return;
            }
            catch (BrokenCircuitException ex)
            {
                result = new DeliveryResult(DeliveryOutcome.Retryable, "circuit open: " + ex.Message);
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or OperationCanceledException or IOException)
            {
                result = new DeliveryResult(DeliveryOutcome.Retryable, ex.GetType().Name + ": " + ex.Message);
            }

            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _metrics.Request(d, result.Outcome.ToString().ToLowerInvariant(), seconds);
            switch (result.Outcome)
            {
                case DeliveryOutcome.Delivered:
                    await CompleteAsync(fresh, CompletionKind.Delivered, null, cancellationToken).ConfigureAwait(false);
                    Delivered(fresh, result.KeyMasks, null);
                    backoff = _options.MinBackoff;
                    break;

                case DeliveryOutcome.Partial:
                    await PartialAsync(fresh, result, cancellationToken).ConfigureAwait(false);
                    backoff = _options.MinBackoff;
                    break;

                case DeliveryOutcome.Retryable:
                    _store.Release(d, fresh);
                    TimeSpan delay = Jitter(backoff);
                    if (result.RetryAfter is { } retryAfter && retryAfter > delay)
                    {
                        delay = retryAfter;
                    }

                    Log.Retrying(_logger, d.Name(), fresh.Count, result.Error, delay.TotalSeconds);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                    break;

                default:
                    await CompleteAsync(fresh, CompletionKind.DeadLettered, result.Error, cancellationToken).ConfigureAwait(false);
                    _metrics.DeadLettered(d, fresh.Count);
                    Log.DeadLettered(_logger, d.Name(), fresh.Count, result.Error);
                    break;
            }
        }
    }

    private async Task<List<CapiEvent>> DropStaleAsync(List<CapiEvent> batch, long now, CancellationToken cancellationToken)
    {
        long oldest = now - (long)_client.MaxAge.TotalMilliseconds;
        List<Completion>? stale = null;
        var fresh = new List<CapiEvent>(batch.Count);
        foreach (CapiEvent e in batch)
        {
            if (e.TimeMs < oldest)
            {
                (stale ??= []).Add(new Completion(e.Seq, CompletionKind.Dropped, "older than the platform accepts"));
            }
            else
            {
                fresh.Add(e);
            }
        }

        if (stale is not null)
        {
            await _store.CompleteAsync(_client.Destination, stale, cancellationToken).ConfigureAwait(false);
            _metrics.Dropped(_client.Destination, "stale", stale.Count);
            Log.Stale(_logger, _client.Destination.Name(), stale.Count, _client.MaxAge.TotalHours);
        }

        return fresh;
    }

    private async Task PartialAsync(List<CapiEvent> batch, DeliveryResult result, CancellationToken cancellationToken)
    {
        CapiDestination d = _client.Destination;
        var completions = new List<Completion>(batch.Count);
        var retry = new List<CapiEvent>();
        var delivered = new List<CapiEvent>();
        var masks = new List<int>();
        int dead = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            CapiEvent e = batch[i];
            if (result.Failed!.TryGetValue(e.Seq, out var failure))
            {
                if (failure.Retryable)
                {
                    retry.Add(e);
                }
                else
                {
                    completions.Add(new Completion(e.Seq, CompletionKind.DeadLettered, failure.Error));
                    dead++;
                }
            }
            else
            {
                completions.Add(new Completion(e.Seq, CompletionKind.Delivered));
                delivered.Add(e);
                masks.Add(i < result.KeyMasks.Length ? result.KeyMasks[i] : 0);
            }
        }

        await _store.CompleteAsync(d, completions, cancellationToken).ConfigureAwait(false);
        _store.Release(d, retry);
        Delivered(delivered, [.. masks], null);
        if (dead > 0)
        {
            _metrics.DeadLettered(d, dead);
            Log.DeadLettered(_logger, d.Name(), dead, "per-event errors in a partly accepted batch");
        }
    }

    private void Delivered(List<CapiEvent> events, int[] keyMasks, string? note)
    {
        _ = note;
        _metrics.Delivered(_client.Destination, events.Count);
        _quality.Record(_client.Destination, keyMasks);
        Log.Delivered(_logger, _client.Destination, events.Count);
    }

    private ValueTask CompleteAsync(List<CapiEvent> events, CompletionKind kind, string? error, CancellationToken cancellationToken) =>
        _store.CompleteAsync(_client.Destination, [.. events.Select(e => new Completion(e.Seq, kind, error))], cancellationToken);

    private static TimeSpan Jitter(TimeSpan delay) =>
        TimeSpan.FromTicks((long)(delay.Ticks * (0.8 + (0.4 * Random.Shared.NextDouble()))));

    private static partial class Log
    {
        [LoggerMessage(EventId = 5101, Level = LogLevel.Debug, Message = "CAPI {Destination}: {Count} events delivered")]
        public static partial void Delivered(ILogger logger, CapiDestination destination, int count);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "CAPI {Destination}: {Count} events not delivered ({Error}); kept, next attempt in {Seconds:0.0} s")]
        public static partial void Retrying(ILogger logger, string destination, int count, string? error, double seconds);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "CAPI {Destination}: {Count} events dead-lettered, not retried: {Error}")]
        public static partial void DeadLettered(ILogger logger, string destination, int count, string? error);

        [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "CAPI {Destination}: {Count} events dropped, older than {Hours} h")]
        public static partial void Stale(ILogger logger, string destination, int count, double hours);
    }
}
