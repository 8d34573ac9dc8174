using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.GapFill;
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
    private readonly GapFillGate? _gapFill;

    public DeliveryWorker(DestinationClient client, ICapiStore store, DeliveryOptions options, TimeProvider time, CapiMetrics metrics, MatchQualityTracker quality, ILogger logger, GapFillGate? gapFill = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _gapFill = client.Destination == CapiDestination.GoogleAnalytics && gapFill is { IsEnabled: true } ? gapFill : null;
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
        var d = _client.Destination;
        var backoff = _options.MinBackoff;
        var batch = new List<CapiEvent>(_client.MaxBatch);
        while (!cancellationToken.IsCancellationRequested)
        {
            batch.Clear();
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (await _store.TakeReadyAsync(d, now, _client.MaxBatch, batch, cancellationToken) == 0)
            {
                var wait = _options.PollInterval;
                if (_store.NextReadyMs(d) is { } next && next > now)
                {
                    wait = TimeSpan.FromMilliseconds(Math.Clamp(next - now, 1, wait.TotalMilliseconds));
                }

                await _store.WaitForWorkAsync(d, wait, cancellationToken);
                continue;
            }

            var fresh = await DropStaleAsync(batch, now, cancellationToken);
            if (fresh.Count > 0 && _gapFill is not null)
            {
                try
                {
                    fresh = await _gapFill.CancelBrowserTwinsAsync(_store, fresh, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Unknown whether the browser reported them (the store is away): kept, never sent blind.
                    _store.Release(d, fresh);
                    Log.Retrying(_logger, d.Name(), fresh.Count, "gap-fill check failed: " + ex.GetType().Name, backoff.TotalSeconds);
                    await Task.Delay(backoff, _time, cancellationToken);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
                    continue;
                }
            }

            if (fresh.Count == 0)
            {
                continue;
            }

            DeliveryResult? retry;
            try
            {
                retry = await DeliverAsync(fresh, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _store.Release(d, fresh);
                return;
            }

            if (retry is null)
            {
                backoff = _options.MinBackoff;
                continue;
            }

            var delay = Jitter(backoff);
            if (retry.RetryAfter is { } retryAfter && retryAfter > delay)
            {
                delay = retryAfter;
            }

            Log.Retrying(_logger, d.Name(), fresh.Count, retry.Error, delay.TotalSeconds);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            await Task.Delay(delay, _time, cancellationToken);
        }
    }

    /// <summary>
    /// Sends events and records every outcome. A fatal answer that is about the events rather than the request
    /// (Meta, TikTok and Google's Data Manager refuse a whole batch for one bad event) is narrowed down by halving
    /// the batch, so the bad events are dead-lettered alone and their batch-mates delivered: k bad events among n cost
    /// at most about 2k·log2(n) extra requests, once. An unexpected exception (a stored value the payload builder
    /// cannot format) is treated the same way, so a worker never stops on an event. Answers the retryable result
    /// when some events were put back (the caller backs off), else null.
    /// </summary>
    private async Task<DeliveryResult?> DeliverAsync(List<CapiEvent> events, CancellationToken cancellationToken)
    {
        var d = _client.Destination;
        var result = await SendOnceAsync(events, cancellationToken);
        switch (result.Outcome)
        {
            case DeliveryOutcome.Delivered:
                await CompleteAsync(events, CompletionKind.Delivered, null, cancellationToken);
                Delivered(events, result.KeyMasks);
                await GapFilledAsync(events, cancellationToken);
                return null;

            case DeliveryOutcome.Partial:
                return await PartialAsync(events, result, cancellationToken);

            case DeliveryOutcome.Retryable:
                _store.Release(d, events);
                return result;

            default:
                if (!result.BatchWide && events.Count > 1)
                {
                    Log.Isolating(_logger, d.Name(), events.Count, result.Error);
                    var half = events.Count / 2;
                    var first = await DeliverAsync(events[..half], cancellationToken);
                    var second = await DeliverAsync(events[half..], cancellationToken);
                    return first ?? second;
                }

                await CompleteAsync(events, CompletionKind.DeadLettered, result.Error, cancellationToken);
                _metrics.DeadLettered(d, events.Count);
                Log.DeadLettered(_logger, d.Name(), events.Count, result.Error);
                return null;
        }
    }

    private async Task<DeliveryResult> SendOnceAsync(List<CapiEvent> events, CancellationToken cancellationToken)
    {
        var d = _client.Destination;
        DeliveryResult result;
        var started = Stopwatch.GetTimestamp();
        try
        {
            result = await _client.SendAsync(events, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (BrokenCircuitException ex)
        {
            result = new DeliveryResult(DeliveryOutcome.Retryable, "circuit open: " + ex.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or OperationCanceledException or IOException)
        {
            result = new DeliveryResult(DeliveryOutcome.Retryable, ex.GetType().Name + ": " + ex.Message);
        }
        catch (Exception ex)
        {
            // Not the network's fault: something in these events (e.g. a time no payload format can hold).
            // Narrowed down like a refused event, so only the event that causes it ends as a dead letter.
            Log.Unexpected(_logger, d.Name(), events.Count, ex);
            result = new DeliveryResult(DeliveryOutcome.Fatal, "could not be sent: " + ex.GetType().Name + ": " + ex.Message);
        }

        _metrics.Request(d, result.Outcome.ToString().ToLowerInvariant(), Stopwatch.GetElapsedTime(started).TotalSeconds);
        return result;
    }

    private async Task<List<CapiEvent>> DropStaleAsync(List<CapiEvent> batch, long now, CancellationToken cancellationToken)
    {
        var oldest = now - (long)_client.MaxAge.TotalMilliseconds;
        List<Completion>? stale = null;
        var fresh = new List<CapiEvent>(batch.Count);
        foreach (var e in batch)
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
            await _store.CompleteAsync(_client.Destination, stale, cancellationToken);
            _metrics.Dropped(_client.Destination, "stale", stale.Count);
            _gapFill?.Stale(stale.Count);
            Log.Stale(_logger, _client.Destination.Name(), stale.Count, _client.MaxAge.TotalHours);
        }

        return fresh;
    }

    private async Task<DeliveryResult?> PartialAsync(List<CapiEvent> batch, DeliveryResult result, CancellationToken cancellationToken)
    {
        var d = _client.Destination;
        var completions = new List<Completion>(batch.Count);
        var retry = new List<CapiEvent>();
        var delivered = new List<CapiEvent>();
        var masks = new List<IdentityKeys>();
        var dead = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
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
                masks.Add(i < result.KeyMasks.Length ? result.KeyMasks[i] : IdentityKeys.None);
            }
        }

        await _store.CompleteAsync(d, completions, cancellationToken);
        _store.Release(d, retry);
        Delivered(delivered, [.. masks]);
        await GapFilledAsync(delivered, cancellationToken);
        if (dead > 0)
        {
            _metrics.DeadLettered(d, dead);
            Log.DeadLettered(_logger, d.Name(), dead, "per-event errors in a partly accepted batch");
        }

        // Retryable elements are put back; the destination backs off only if there were any.
        return retry.Count == 0 ? null : new DeliveryResult(DeliveryOutcome.Retryable, "retryable per-event errors", result.RetryAfter);
    }

    private void Delivered(List<CapiEvent> events, IdentityKeys[] keyMasks)
    {
        _metrics.Delivered(_client.Destination, events.Count);
        _quality.Record(_client.Destination, keyMasks);
        Log.Delivered(_logger, _client.Destination, events.Count);
    }

    private async ValueTask GapFilledAsync(List<CapiEvent> delivered, CancellationToken cancellationToken)
    {
        if (_gapFill is null)
        {
            return;
        }

        try
        {
            await _gapFill.SentAsync(_store, delivered, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Delivered all the same; only a later browser twin goes uncounted.
            Log.Unexpected(_logger, _client.Destination.Name(), delivered.Count, ex);
        }
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

        [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "CAPI {Destination}: a batch of {Count} events was refused ({Error}); sending its halves apart so only the bad events fail")]
        public static partial void Isolating(ILogger logger, string destination, int count, string? error);

        [LoggerMessage(EventId = 5108, Level = LogLevel.Error, Message = "CAPI {Destination}: {Count} events could not be sent (unexpected error); narrowing it down to the events that cause it")]
        public static partial void Unexpected(ILogger logger, string destination, int count, Exception exception);

        [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "CAPI {Destination}: {Count} events dropped, older than {Hours} h")]
        public static partial void Stale(ILogger logger, string destination, int count, double hours);
    }
}
