using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>Accepting: the ledger (SET NX per destination), merging into a waiting twin, and the gap-fill marks.</summary>
internal sealed partial class RedisCapiStore
{
    public async ValueTask<AcceptStatus[]> AcceptAsync(IReadOnlyList<CapiEvent> events, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        // Spilled events are drained in the background; new ones need not queue behind them (the order of a site's
        // conversions carries no meaning for the platforms, which take event_time from each event).
        if (_healthy)
        {
            try
            {
                return await AcceptInRedisAsync(events);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                // Unknown whether Redis applied it: the spill keeps it, and the ledger makes a second acceptance a duplicate.
                MarkUnhealthy(ex);
            }
        }

        return Spill(events);
    }

    public async ValueTask SetMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        // Shared by every instance: a browser hit through one cancels the gap-fill another would send. Pipelined.
        var ttl = TimeSpan.FromMilliseconds(_dedupTtlMs);
        await Task.WhenAll(keys.Select(k => Db.StringSetAsync(MarkKey(k), 1, ttl)));
    }

    public async ValueTask<bool[]> HasMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return [];
        }

        return await Task.WhenAll(keys.Select(k => Db.KeyExistsAsync(MarkKey(k))));
    }

    private async Task<AcceptStatus[]> AcceptInRedisAsync(IReadOnlyList<CapiEvent> events)
    {
        var statuses = new AcceptStatus[events.Count];
        var wanted = events.Count(static e => e.Destinations != 0);
        var seq = wanted == 0 ? 0 : await Db.StringIncrementAsync(_prefix + "seq", wanted) - wanted;
        var calls = new Task<RedisResult>?[events.Count];
        var bodies = new byte[events.Count][];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Destinations == 0)
            {
                statuses[i] = AcceptStatus.NoDestination;
                continue;
            }

            e.Seq = ++seq;
            var ready = e.AcceptedMs + _mergeWindowMs;
            bodies[i] = JsonSerializer.SerializeToUtf8Bytes(e, CapiJsonContext.Default.CapiEvent);
            var keys = new RedisKey[2 + (2 * CapiDestinations.Count)];
            keys[0] = EventKey(e.Seq);
            keys[1] = _prefix + "events";
            foreach (var d in CapiDestinations.All)
            {
                keys[2 + (int)d] = StreamKey(d);
                keys[2 + CapiDestinations.Count + (int)d] = LedgerKey(d, e.Name, e.EventId);
            }

            // Concurrent calls are pipelined on the one connection: a batch costs about one round trip.
            calls[i] = Db.ScriptEvaluateAsync(RedisScripts.Accept, keys, [e.Seq, e.Destinations, _dedupTtlMs, bodies[i], ready]);
        }

        await Task.WhenAll(calls.Where(static c => c is not null)!);
        var signal = 0;
        var now = NowMs();
        for (var i = 0; i < events.Count; i++)
        {
            if (calls[i] is not { } call)
            {
                continue;
            }

            var r = (RedisResult[])call.Result!;
            var remaining = (int)r[0];
            var merged = false;
            foreach (var d in CapiDestinations.All)
            {
                var twin = (string)r[1 + (int)d]!;
                if (twin.Length == 0)
                {
                    continue;
                }

                if (TwinStillWaiting(twin, now, out var twinSeq) && await MergeAsync(twinSeq, events[i]))
                {
                    merged = true;
                    _metrics?.Merged(d);
                }
                else
                {
                    _metrics?.Duplicate(d);
                }
            }

            signal |= remaining;
            statuses[i] = remaining != 0 ? AcceptStatus.Accepted : merged ? AcceptStatus.Merged : AcceptStatus.Duplicate;
        }

        if (_options.WaitReplicas > 0)
        {
            // Acknowledged writes survive a fail-over only once a replica has them (WAIT, not a guarantee of its fsync).
            await Db.ExecuteAsync("WAIT", _options.WaitReplicas, (long)_options.OperationTimeout.TotalMilliseconds);
        }

        foreach (var d in CapiDestinations.All)
        {
            if ((signal & d.Bit()) != 0)
            {
                _states[(int)d].Signal();
            }
        }

        return statuses;
    }

    private static bool TwinStillWaiting(string twin, long now, out long seq)
    {
        var colon = twin.IndexOf(':', StringComparison.Ordinal);
        seq = 0;
        return colon > 0
            && long.TryParse(twin.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out seq)
            && long.TryParse(twin.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var readyMs)
            && now < readyMs - MergeGuardMs;
    }

    /// <summary>Merges the newcomer's identity into the twin's stored JSON (compare-and-set, a few tries).</summary>
    private async Task<bool> MergeAsync(long twinSeq, CapiEvent newcomer)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var stored = await Db.HashGetAsync(EventKey(twinSeq), "b");
            if (stored.IsNull || JsonSerializer.Deserialize((byte[])stored!, CapiJsonContext.Default.CapiEvent) is not { } twin)
            {
                return false;
            }

            if (!twin.Identity.MergeFrom(newcomer.Identity))
            {
                return true;
            }

            var merged = JsonSerializer.SerializeToUtf8Bytes(twin, CapiJsonContext.Default.CapiEvent);
            if ((int)await Db.ScriptEvaluateAsync(RedisScripts.Merge, [EventKey(twinSeq)], [stored, merged]) == 1)
            {
                return true;
            }
        }

        return true;
    }
}
