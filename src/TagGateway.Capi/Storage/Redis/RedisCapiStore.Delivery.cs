using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>Delivery: reading and holding stream entries, taking ready ones, putting them back, completing them.</summary>
internal sealed partial class RedisCapiStore
{
    public async ValueTask<int> TakeReadyAsync(CapiDestination destination, long nowMs, int max, List<CapiEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var state = _states[(int)destination];
        try
        {
            await EnsureGroupsAsync();
            if (state.HeldCount < max)
            {
                var entries = await Db.StreamReadGroupAsync(state.Stream, Group, ConsumerName, StreamPosition.NewMessages, max - state.HeldCount);
                state.Hold(entries);
            }

            if (nowMs - state.LastClaimMs >= Math.Max(500, _claimIdleMs / 2))
            {
                state.LastClaimMs = nowMs;
                var claimed = await Db.StreamAutoClaimAsync(state.Stream, Group, ConsumerName, _claimIdleMs, state.ClaimCursor, max);
                state.ClaimCursor = claimed.NextStartId.IsNullOrEmpty ? "0-0" : claimed.NextStartId;
                var added = state.Hold(claimed.ClaimedEntries);
                if (added > 0)
                {
                    _redisMetrics?.Claimed(destination, added);
                    Log.Claimed(_logger, destination, added);
                }
            }

            var ready = state.TakeReady(nowMs - _readyDelayMs[(int)destination], max);
            if (ready.Count == 0)
            {
                return 0;
            }

            var keys = new RedisKey[1 + (2 * ready.Count)];
            var args = new RedisValue[5 + ready.Count];
            keys[0] = state.Stream;
            args[0] = Group;
            args[1] = ConsumerName;
            args[2] = _prefix + "alive:";
            args[3] = _dedupTtlMs;

            // A lapsed heartbeat proves a death only once this instance has seen Redis up for a whole heartbeat
            // lifetime: after an outage (or a Redis restart from its file) every live instance's heartbeat has lapsed.
            args[4] = _healthy && nowMs - Interlocked.Read(ref _healthySinceMs) > (long)_options.ConsumerTtl.TotalMilliseconds ? "1" : "0";
            for (var i = 0; i < ready.Count; i++)
            {
                keys[1 + (2 * i)] = MarkerKey(destination, ready[i].Seq);
                keys[2 + (2 * i)] = EventKey(ready[i].Seq);
                args[5 + i] = ready[i].Id;
            }

            RedisResult[] result;
            try
            {
                result = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisScripts.Take, keys, args))!;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                // Kept for the next attempt: if the script did run, our own marker lets us send them then.
                foreach (var held in ready)
                {
                    state.Requeue(held);
                }

                throw;
            }

            List<(Held Held, CapiEvent Event, string Owner)>? orphans = null;
            for (var i = 0; i < ready.Count; i++)
            {
                var status = (string)result[3 * i]!;
                if (status is not ("ok" or "orphan"))
                {
                    continue;
                }

                var e = JsonSerializer.Deserialize((byte[])result[(3 * i) + 1]!, CapiJsonContext.Default.CapiEvent);
                if (e is null)
                {
                    continue;
                }

                e.Seq = ready[i].Seq;
                ready[i].Event = e;
                if (status == "ok")
                {
                    state.InFlight[e.Seq] = ready[i];
                    batch.Add(e);
                }
                else
                {
                    (orphans ??= []).Add((ready[i], e, (string)result[(3 * i) + 2]!));
                }
            }

            if (orphans is not null)
            {
                await ResolveOrphansAsync(destination, orphans);
            }

            return batch.Count;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            MarkUnhealthy(ex);
            return 0;
        }
    }

    public void Release(CapiDestination destination, IReadOnlyList<CapiEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var state = _states[(int)destination];
        var markers = new List<RedisKey>(events.Count);
        foreach (var e in events)
        {
            if (state.InFlight.Remove(e.Seq, out var held))
            {
                // Kept by this consumer for the retry; the marker goes, so a claimer may take over if this instance dies.
                state.Requeue(held);
                markers.Add(MarkerKey(destination, e.Seq));
            }
        }

        if (markers.Count > 0)
        {
            // If this fails (Redis down), the marker still names this consumer, and the take script lets its owner resend.
            _ = Db.KeyDeleteAsync([.. markers], CommandFlags.FireAndForget);
        }
    }

    public async ValueTask CompleteAsync(CapiDestination destination, IReadOnlyList<Completion> completions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completions);
        var state = _states[(int)destination];
        var items = new List<(Held Held, CompletionKind Kind, string? Error)>(completions.Count);
        foreach (var completion in completions)
        {
            if (state.InFlight.Remove(completion.Seq, out var held))
            {
                items.Add((held, completion.Kind, completion.Error));
            }
        }

        var now = NowMs();
        foreach (var group in items.GroupBy(static i => i.Kind == CompletionKind.DeadLettered))
        {
            await CompleteInRedisAsync(destination, [.. group.Select(i => (i.Held, i.Error))], group.Key, now, cancellationToken);
        }
    }

    public async Task WaitForWorkAsync(CapiDestination destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var state = _states[(int)destination];
        // Read before the flag is tested (see JournalStore.WaitForWorkAsync): otherwise a signal in between is lost.
        var signal = Volatile.Read(ref state.SignalSource).Task;
        if (Interlocked.Exchange(ref state.Signalled, 0) == 1)
        {
            return;
        }

        try
        {
            // Other instances' events arrive by polling: blocking reads would stall the multiplexed connection.
            await signal.WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Poll again.
        }

        Interlocked.Exchange(ref state.Signalled, 0);
    }

    public long? NextReadyMs(CapiDestination destination) => _states[(int)destination].NextReadyMs() + _readyDelayMs[(int)destination];

    public void SetReadyDelay(CapiDestination destination, TimeSpan delay) =>
        _readyDelayMs[(int)destination] = Math.Max(0, (long)delay.TotalMilliseconds);

    /// <summary>
    /// A dead consumer's marked entries: it may have sent them. Dead-lettered as uncertain (listed with the consumer,
    /// replayable) rather than resent blind, which could make a platform count a conversion twice.
    /// </summary>
    private async Task ResolveOrphansAsync(CapiDestination destination, List<(Held Held, CapiEvent Event, string Owner)> orphans)
    {
        var now = NowMs();
        var items = new List<(Held, string?)>(orphans.Count);
        foreach ((var held, var e, var owner) in orphans)
        {
            held.Event = e;
            items.Add((held, $"{UncertainPrefix}{owner} stopped while sending; the platform may have it (replay to send again)"));
        }

        await CompleteInRedisAsync(destination, items, deadLetter: true, now, CancellationToken.None);
        _redisMetrics?.Uncertain(destination, orphans.Count);
        _metrics?.DeadLettered(destination, orphans.Count);
        Log.Uncertain(_logger, destination.Name(), orphans.Count, orphans[0].Owner);
    }

    /// <summary>Acknowledges entries; retried until Redis takes it (an unacknowledged sent entry would otherwise be sent again).</summary>
    private async Task CompleteInRedisAsync(CapiDestination destination, List<(Held Held, string? Error)> items, bool deadLetter, long now, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            return;
        }

        var keys = new RedisKey[3 + (2 * items.Count)];
        var args = new RedisValue[2 + (3 * items.Count)];
        keys[0] = StreamKey(destination);
        keys[1] = DeadLetterKey;
        keys[2] = _prefix + "events";
        args[0] = Group;
        args[1] = deadLetter ? "x" : "d";
        for (var i = 0; i < items.Count; i++)
        {
            var held = items[i].Held;
            keys[3 + (2 * i)] = EventKey(held.Seq);
            keys[4 + (2 * i)] = MarkerKey(destination, held.Seq);
            args[2 + (3 * i)] = held.Id;
            args[3 + (3 * i)] = DeadLetterField.Of(destination, held.Seq);
            args[4 + (3 * i)] = deadLetter && held.Event is { } e
                ? DeadLetterValue.Format(e.Name, e.EventId, e.TimeMs, now, items[i].Error ?? string.Empty)
                : RedisValue.EmptyString;
        }

        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await Db.ScriptEvaluateAsync(RedisScripts.Complete, keys, args);
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex) && !cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                MarkUnhealthy(ex);
                await Task.Delay(delay, _time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }
}
