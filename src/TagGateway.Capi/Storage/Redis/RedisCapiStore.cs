using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>
/// The outbox and dedup ledger in Redis, shared by every instance of a site (Capi:Store:Kind=Redis).
/// <list type="bullet">
/// <item>Ledger: one key per (destination, event name, event id), SET NX with the dedup TTL; the value names the
/// event and when it becomes ready, so a twin still inside its merge window absorbs the newcomer's identity.</item>
/// <item>Outbox: the event JSON in a hash, one stream per destination with one entry per event, one consumer group
/// ("gateway") read by every instance. An entry stays in the group's pending list until it is acknowledged.</item>
/// <item>A dead instance's pending entries are claimed (XAUTOCLAIM) by a live one after <see cref="RedisStoreOptions.ClaimIdle"/>.</item>
/// <item>Exactly once across instances: before sending, the take script sets a per-(destination, event) marker naming
/// the sender, atomically with checking the entry is still this consumer's and unmarked. A claimer that finds the
/// marker of a consumer whose heartbeat lapsed does not resend: the dead instance may have sent it (its request may have
/// reached the platform), so the event is dead-lettered as "uncertain", listed and replayable, never silently dropped.</item>
/// <item>Redis unreachable: accepted events are fsync'd to a bounded local spill (<see cref="RedisSpill"/>) and drained
/// when Redis returns; when the spill is full, acceptance is refused (503), never accepted and lost.</item>
/// </list>
/// </summary>
internal sealed partial class RedisCapiStore : ICapiStore
{
    private const string Group = "gateway";
    private const string UncertainPrefix = "uncertain: ";

    // A twin is merged only while this far from its send: instances' clocks and the read of a batch are not instantaneous.
    private const long MergeGuardMs = 250;

    private readonly CapiOptions _capi;
    private readonly RedisStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CapiMetrics? _metrics;
    private readonly RedisStoreMetrics? _redisMetrics;
    private readonly string _prefix;
    private readonly long _dedupTtlMs;
    private readonly long _mergeWindowMs;
    private readonly long _claimIdleMs;
    private readonly RedisSpill _spill;
    private readonly DestinationState[] _states;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _drainGate = new(1, 1);
    private readonly long[] _readyDelayMs = new long[CapiDestinations.Count];

    private ConnectionMultiplexer? _mux;
    private Task _background = Task.CompletedTask;
    private volatile bool _healthy;
    private volatile bool _groupsReady;
    private long _lastErrorLogMs;
    private long _healthySinceMs;

    public RedisCapiStore(CapiOptions capi, TimeProvider time, ILogger logger, CapiMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(capi);
        _capi = capi;
        _options = capi.Store.Redis;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _redisMetrics = metrics is null ? null : new RedisStoreMetrics(metrics.Meter, this);
        _prefix = _options.KeyPrefix;
        _dedupTtlMs = (long)capi.DedupTtl.TotalMilliseconds;
        _mergeWindowMs = (long)capi.MergeWindow.TotalMilliseconds;
        _claimIdleMs = (long)_options.ClaimIdle.TotalMilliseconds;
        ConsumerName = string.IsNullOrEmpty(_options.ConsumerName) ? DefaultConsumerName() : _options.ConsumerName;
        _spill = new RedisSpill(_options.SpillPath, _options.SpillMaxBytes);
        _states = [.. CapiDestinations.All.Select(d => new DestinationState(d, StreamKey(d)))];
    }

    /// <summary>This instance's name in the consumer groups and its heartbeat key.</summary>
    public string ConsumerName { get; }

    internal long SpillBytes => _spill.Bytes;

    internal bool Healthy => _healthy;

    private IDatabase Db => _mux!.GetDatabase();

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        _spill.Open();
        var configuration = ConfigurationOptions.Parse(_options.Configuration);

        // Start and keep running without Redis: hits and scripts do not depend on it, and events go to the spill.
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
        configuration.SyncTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
        configuration.AsyncTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
        configuration.ClientName ??= ConsumerName;
        _mux = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        await HeartbeatAsync().ConfigureAwait(false);
        Log.Opened(_logger, ConsumerName, _prefix, _healthy, _spill.Bytes);
        _background = Task.Run(() => BackgroundAsync(_stopping.Token), CancellationToken.None);
        foreach (DestinationState state in _states)
        {
            state.Signal();
        }
    }

    public async ValueTask<AcceptStatus[]> AcceptAsync(IReadOnlyList<CapiEvent> events, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        // Spilled events are drained in the background; new ones need not queue behind them (the order of a site's
        // conversions carries no meaning for the platforms, which take event_time from each event).
        if (_healthy)
        {
            try
            {
                return await AcceptInRedisAsync(events).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                // Unknown whether Redis applied it: the spill keeps it, and the ledger makes a second acceptance a duplicate.
                MarkUnhealthy(ex);
            }
        }

        return Spill(events);
    }

    public int TakeReady(CapiDestination destination, long nowMs, int max, List<CapiEvent> batch) =>
        TakeReadyAsync(destination, nowMs, max, batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public async ValueTask<int> TakeReadyAsync(CapiDestination destination, long nowMs, int max, List<CapiEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        DestinationState state = _states[(int)destination];
        try
        {
            await EnsureGroupsAsync().ConfigureAwait(false);
            if (state.HeldCount < max)
            {
                StreamEntry[] entries = await Db.StreamReadGroupAsync(state.Stream, Group, ConsumerName, StreamPosition.NewMessages, max - state.HeldCount).ConfigureAwait(false);
                state.Hold(entries);
            }

            if (nowMs - state.LastClaimMs >= Math.Max(500, _claimIdleMs / 2))
            {
                state.LastClaimMs = nowMs;
                StreamAutoClaimResult claimed = await Db.StreamAutoClaimAsync(state.Stream, Group, ConsumerName, _claimIdleMs, state.ClaimCursor, max).ConfigureAwait(false);
                state.ClaimCursor = claimed.NextStartId.IsNullOrEmpty ? "0-0" : claimed.NextStartId;
                int added = state.Hold(claimed.ClaimedEntries);
                if (added > 0)
                {
                    _redisMetrics?.Claimed(destination, added);
                    Log.Claimed(_logger, destination, added);
                }
            }

            List<Held> ready = state.TakeReady(nowMs - _readyDelayMs[(int)destination], max);
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
            for (int i = 0; i < ready.Count; i++)
            {
                keys[1 + (2 * i)] = MarkerKey(destination, ready[i].Seq);
                keys[2 + (2 * i)] = EventKey(ready[i].Seq);
                args[5 + i] = ready[i].Id;
            }

            RedisResult[] result;
            try
            {
                result = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisScripts.Take, keys, args).ConfigureAwait(false))!;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                // Kept for the next attempt: if the script did run, our own marker lets us send them then.
                foreach (Held held in ready)
                {
                    state.Requeue(held);
                }

                throw;
            }

            List<(Held Held, CapiEvent Event, string Owner)>? orphans = null;
            for (int i = 0; i < ready.Count; i++)
            {
                string status = (string)result[3 * i]!;
                if (status is not ("ok" or "orphan"))
                {
                    continue;
                }

                CapiEvent? e = JsonSerializer.Deserialize((byte[])result[(3 * i) + 1]!, CapiJsonContext.Default.CapiEvent);
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
                await ResolveOrphansAsync(destination, orphans).ConfigureAwait(false);
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
        DestinationState state = _states[(int)destination];
        var markers = new List<RedisKey>(events.Count);
        foreach (CapiEvent e in events)
        {
            if (state.InFlight.Remove(e.Seq, out Held? held))
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
        DestinationState state = _states[(int)destination];
        var items = new List<(Held Held, CompletionKind Kind, string? Error)>(completions.Count);
        foreach (Completion completion in completions)
        {
            if (state.InFlight.Remove(completion.Seq, out Held? held))
            {
                items.Add((held, completion.Kind, completion.Error));
            }
        }

        long now = NowMs();
        foreach (IGrouping<bool, (Held Held, CompletionKind Kind, string? Error)> group in items.GroupBy(static i => i.Kind == CompletionKind.DeadLettered))
        {
            await CompleteInRedisAsync(destination, [.. group.Select(i => (i.Held, i.Error))], group.Key, now, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task WaitForWorkAsync(CapiDestination destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        DestinationState state = _states[(int)destination];
        // Read before the flag is tested (see JournalStore.WaitForWorkAsync): otherwise a signal in between is lost.
        Task signal = Volatile.Read(ref state.SignalSource).Task;
        if (Interlocked.Exchange(ref state.Signalled, 0) == 1)
        {
            return;
        }

        try
        {
            // Other instances' events arrive by polling: blocking reads would stall the multiplexed connection.
            await signal.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
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

    public async ValueTask SetMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return;
        }

        // Shared by every instance: a browser hit through one cancels the gap-fill another would send. Pipelined.
        TimeSpan ttl = TimeSpan.FromMilliseconds(_dedupTtlMs);
        await Task.WhenAll(keys.Select(k => Db.StringSetAsync(MarkKey(k), 1, ttl))).ConfigureAwait(false);
    }

    public async ValueTask<bool[]> HasMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return [];
        }

        return await Task.WhenAll(keys.Select(k => Db.KeyExistsAsync(MarkKey(k)))).ConfigureAwait(false);
    }

    public IReadOnlyList<DeadLetter> DeadLetters(CapiDestination? destination, int limit) =>
        DeadLettersAsync(destination, limit, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public async ValueTask<IReadOnlyList<DeadLetter>> DeadLettersAsync(CapiDestination? destination, int limit, CancellationToken cancellationToken)
    {
        var list = new List<DeadLetter>();
        foreach (HashEntry entry in await Db.HashGetAllAsync(DeadLetterKey).ConfigureAwait(false))
        {
            if (DeadLetterField.TryParse(entry.Name!, out CapiDestination d, out long seq) && (destination is null || destination == d)
                && DeadLetterValue.TryParse(entry.Value!, out DeadLetterValue value))
            {
                list.Add(new DeadLetter(seq, d, value.Name, value.EventId, value.TimeMs, value.FailedMs, value.Error));
            }
        }

        list.Sort(static (a, b) => a.Seq != b.Seq ? a.Seq.CompareTo(b.Seq) : a.Destination.CompareTo(b.Destination));
        return list.Count > limit ? list[..limit] : list;
    }

    public async ValueTask<int> ReplayAsync(long seq, CapiDestination? destination, CancellationToken cancellationToken)
    {
        int replayed = 0;
        long now = NowMs();
        foreach (CapiDestination d in CapiDestinations.All)
        {
            if (destination is not null && destination != d)
            {
                continue;
            }

            RedisResult r = await Db.ScriptEvaluateAsync(RedisScripts.Replay, [DeadLetterKey, StreamKey(d)], [DeadLetterField.Of(d, seq), seq, now]).ConfigureAwait(false);
            if ((int)r == 1)
            {
                replayed++;
                _states[(int)d].Signal();
            }
        }

        return replayed;
    }

    public StoreStatistics Statistics() => StatisticsAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public async ValueTask<StoreStatistics> StatisticsAsync(CancellationToken cancellationToken)
    {
        int[] pending = new int[CapiDestinations.Count];
        int events = -1, dead = -1;
        try
        {
            IDatabase db = Db;
            Task<long>[] lengths = [.. CapiDestinations.All.Select(d => db.StreamLengthAsync(StreamKey(d)))];
            Task<RedisValue> count = db.StringGetAsync(_prefix + "events");
            Task<long> deadCount = db.HashLengthAsync(DeadLetterKey);
            await Task.WhenAll([.. lengths, count, deadCount]).ConfigureAwait(false);
            foreach (CapiDestination d in CapiDestinations.All)
            {
                pending[(int)d] = (int)lengths[(int)d].Result;
            }

            events = (int)(long)count.Result;
            dead = (int)deadCount.Result;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // The status page still answers during an outage: -1 for what only Redis knows, the spill's bytes below.
            MarkUnhealthy(ex);
            Array.Fill(pending, -1);
        }

        // Bytes: the spill (local); ledger keys are not counted (a SCAN over a shared Redis is not worth a status page).
        return new StoreStatistics(_spill.Bytes, 0, events, -1, dead, pending);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        if (_mux is not null)
        {
            try
            {
                // The heartbeat goes at once, so claimers need not wait for it to lapse on a clean stop.
                await Db.KeyDeleteAsync(_prefix + "alive:" + ConsumerName).WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                // Unreachable: the heartbeat lapses by itself.
            }

            await _mux.CloseAsync().ConfigureAwait(false);
            await _mux.DisposeAsync().ConfigureAwait(false);
            _mux = null;
        }

        _spill.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Drains the spill now (tests; the background loop does it as soon as Redis answers).</summary>
    internal Task DrainSpillAsync() => DrainAsync(CancellationToken.None);

    private async Task<AcceptStatus[]> AcceptInRedisAsync(IReadOnlyList<CapiEvent> events)
    {
        var statuses = new AcceptStatus[events.Count];
        int wanted = events.Count(static e => e.Destinations != 0);
        long seq = wanted == 0 ? 0 : await Db.StringIncrementAsync(_prefix + "seq", wanted).ConfigureAwait(false) - wanted;
        var calls = new Task<RedisResult>?[events.Count];
        var bodies = new byte[events.Count][];
        for (int i = 0; i < events.Count; i++)
        {
            CapiEvent e = events[i];
            if (e.Destinations == 0)
            {
                statuses[i] = AcceptStatus.NoDestination;
                continue;
            }

            e.Seq = ++seq;
            long ready = e.AcceptedMs + _mergeWindowMs;
            bodies[i] = JsonSerializer.SerializeToUtf8Bytes(e, CapiJsonContext.Default.CapiEvent);
            var keys = new RedisKey[2 + (2 * CapiDestinations.Count)];
            keys[0] = EventKey(e.Seq);
            keys[1] = _prefix + "events";
            foreach (CapiDestination d in CapiDestinations.All)
            {
                keys[2 + (int)d] = StreamKey(d);
                keys[2 + CapiDestinations.Count + (int)d] = LedgerKey(d, e.Name, e.EventId);
            }

            // Concurrent calls are pipelined on the one connection: a batch costs about one round trip.
            calls[i] = Db.ScriptEvaluateAsync(RedisScripts.Accept, keys, [e.Seq, e.Destinations, _dedupTtlMs, bodies[i], ready]);
        }

        await Task.WhenAll(calls.Where(static c => c is not null)!).ConfigureAwait(false);
        int signal = 0;
        long now = NowMs();
        for (int i = 0; i < events.Count; i++)
        {
            if (calls[i] is not { } call)
            {
                continue;
            }

            var r = (RedisResult[])call.Result!;
            int remaining = (int)r[0];
            bool merged = false;
            foreach (CapiDestination d in CapiDestinations.All)
            {
                string twin = (string)r[1 + (int)d]!;
                if (twin.Length == 0)
                {
                    continue;
                }

                if (TwinStillWaiting(twin, now, out long twinSeq) && await MergeAsync(twinSeq, events[i]).ConfigureAwait(false))
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
            await Db.ExecuteAsync("WAIT", _options.WaitReplicas, (long)_options.OperationTimeout.TotalMilliseconds).ConfigureAwait(false);
        }

        foreach (CapiDestination d in CapiDestinations.All)
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
        int colon = twin.IndexOf(':', StringComparison.Ordinal);
        seq = 0;
        return colon > 0
            && long.TryParse(twin.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out seq)
            && long.TryParse(twin.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long readyMs)
            && now < readyMs - MergeGuardMs;
    }

    /// <summary>Merges the newcomer's identity into the twin's stored JSON (compare-and-set, a few tries).</summary>
    private async Task<bool> MergeAsync(long twinSeq, CapiEvent newcomer)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            RedisValue stored = await Db.HashGetAsync(EventKey(twinSeq), "b").ConfigureAwait(false);
            if (stored.IsNull || JsonSerializer.Deserialize((byte[])stored!, CapiJsonContext.Default.CapiEvent) is not { } twin)
            {
                return false;
            }

            if (!twin.Identity.MergeFrom(newcomer.Identity))
            {
                return true;
            }

            byte[] merged = JsonSerializer.SerializeToUtf8Bytes(twin, CapiJsonContext.Default.CapiEvent);
            if ((int)await Db.ScriptEvaluateAsync(RedisScripts.Merge, [EventKey(twinSeq)], [stored, merged]).ConfigureAwait(false) == 1)
            {
                return true;
            }
        }

        return true;
    }

    private AcceptStatus[] Spill(IReadOnlyList<CapiEvent> events)
    {
        var statuses = new AcceptStatus[events.Count];
        var spilled = new List<CapiEvent>(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            if (events[i].Destinations == 0)
            {
                statuses[i] = AcceptStatus.NoDestination;
            }
            else
            {
                spilled.Add(events[i]);
            }
        }

        bool ok;
        try
        {
            ok = spilled.Count == 0 || _spill.TryAppend(spilled);
        }
        catch (IOException ex)
        {
            Log.SpillFailed(_logger, ex);
            ok = false;
        }

        for (int i = 0; i < events.Count; i++)
        {
            if (events[i].Destinations != 0)
            {
                statuses[i] = ok ? AcceptStatus.Accepted : AcceptStatus.StoreFull;
            }
        }

        if (ok)
        {
            _redisMetrics?.Spilled(spilled.Count);
        }
        else
        {
            Log.SpillFull(_logger, _spill.Bytes, _options.SpillMaxBytes);
        }

        return statuses;
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_spill.IsEmpty || !await _drainGate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            int drained = 0;
            foreach (string path in _spill.Seal())
            {
                List<CapiEvent> events = RedisSpill.Read(path);
                for (int start = 0; start < events.Count; start += 200)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await AcceptInRedisAsync(events.GetRange(start, Math.Min(200, events.Count - start))).ConfigureAwait(false);
                }

                _spill.Delete(path);
                drained += events.Count;
            }

            if (drained > 0)
            {
                Log.Drained(_logger, drained);
            }
        }
        finally
        {
            _drainGate.Release();
        }
    }

    /// <summary>
    /// A dead consumer's marked entries: it may have sent them. Dead-lettered as uncertain (listed with the consumer,
    /// replayable) rather than resent blind, which could make a platform count a conversion twice.
    /// </summary>
    private async Task ResolveOrphansAsync(CapiDestination destination, List<(Held Held, CapiEvent Event, string Owner)> orphans)
    {
        long now = NowMs();
        var items = new List<(Held, string?)>(orphans.Count);
        foreach ((Held held, CapiEvent e, string owner) in orphans)
        {
            held.Event = e;
            items.Add((held, $"{UncertainPrefix}{owner} stopped while sending; the platform may have it (replay to send again)"));
        }

        await CompleteInRedisAsync(destination, items, deadLetter: true, now, CancellationToken.None).ConfigureAwait(false);
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
        for (int i = 0; i < items.Count; i++)
        {
            Held held = items[i].Held;
            keys[3 + (2 * i)] = EventKey(held.Seq);
            keys[4 + (2 * i)] = MarkerKey(destination, held.Seq);
            args[2 + (3 * i)] = held.Id;
            args[3 + (3 * i)] = DeadLetterField.Of(destination, held.Seq);
            args[4 + (3 * i)] = deadLetter && held.Event is { } e
                ? DeadLetterValue.Format(e.Name, e.EventId, e.TimeMs, now, items[i].Error ?? string.Empty)
                : RedisValue.EmptyString;
        }

        TimeSpan delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await Db.ScriptEvaluateAsync(RedisScripts.Complete, keys, args).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex) && !cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                MarkUnhealthy(ex);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    private async Task BackgroundAsync(CancellationToken cancellationToken)
    {
        TimeSpan period = _options.ConsumerTtl / 3;
        long lastExpiry = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await HeartbeatAsync().ConfigureAwait(false);
            if (!_healthy)
            {
                continue;
            }

            try
            {
                await EnsureGroupsAsync().ConfigureAwait(false);
                await DrainAsync(cancellationToken).ConfigureAwait(false);
                long now = NowMs();
                if (now - lastExpiry > 60_000)
                {
                    lastExpiry = now;
                    await ExpireDeadLettersAsync(now).ConfigureAwait(false);
                    await ForgetIdleConsumersAsync().ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                MarkUnhealthy(ex);
            }
        }
    }

    private async Task HeartbeatAsync()
    {
        try
        {
            await Db.StringSetAsync(_prefix + "alive:" + ConsumerName, NowMs(), _options.ConsumerTtl).ConfigureAwait(false);
            if (!_healthy)
            {
                Interlocked.Exchange(ref _healthySinceMs, NowMs());
                _healthy = true;
                Log.Reachable(_logger, _spill.Bytes);
                foreach (DestinationState state in _states)
                {
                    state.Signal();
                }
            }
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            MarkUnhealthy(ex);
        }
    }

    private async Task EnsureGroupsAsync()
    {
        if (_groupsReady)
        {
            return;
        }

        foreach (DestinationState state in _states)
        {
            try
            {
                // From the stream's start: entries added before the first instance ever started are read too.
                await Db.StreamCreateConsumerGroupAsync(state.Stream, Group, "0-0", createStream: true).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
            {
                // Another instance created it.
            }
        }

        _groupsReady = true;
    }

    private async Task ExpireDeadLettersAsync(long now)
    {
        long retention = (long)_capi.Store.DeadLetterRetention.TotalMilliseconds;
        foreach (HashEntry entry in await Db.HashGetAllAsync(DeadLetterKey).ConfigureAwait(false))
        {
            if (DeadLetterValue.TryParse(entry.Value!, out DeadLetterValue value) && now - value.FailedMs > retention
                && DeadLetterField.TryParse(entry.Name!, out CapiDestination d, out long seq))
            {
                await Db.ScriptEvaluateAsync(RedisScripts.Expire, [DeadLetterKey, EventKey(seq), _prefix + "events"], [entry.Name]).ConfigureAwait(false);
                _metrics?.Dropped(d, "dead_letter_expired");
            }
        }
    }

    /// <summary>
    /// Every start is a new consumer; the groups would list every instance that ever ran. A consumer with nothing
    /// pending and idle for an hour is removed (its entries, if any, were claimed long before).
    /// </summary>
    private async Task ForgetIdleConsumersAsync()
    {
        foreach (DestinationState state in _states)
        {
            foreach (StreamConsumerInfo consumer in await Db.StreamConsumerInfoAsync(state.Stream, Group).ConfigureAwait(false))
            {
                if (consumer.PendingMessageCount == 0 && consumer.IdleTimeInMilliseconds > 3_600_000 && consumer.Name != ConsumerName)
                {
                    await Db.StreamDeleteConsumerAsync(state.Stream, Group, consumer.Name).ConfigureAwait(false);
                }
            }
        }
    }

    private void MarkUnhealthy(Exception ex)
    {
        if (ex is RedisServerException server && server.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // The streams were deleted (a flushed Redis): recreate the groups on the next call.
            _groupsReady = false;
            return;
        }

        _healthy = false;
        long now = NowMs();
        if (now - Interlocked.Read(ref _lastErrorLogMs) > 5_000)
        {
            Interlocked.Exchange(ref _lastErrorLogMs, now);
            Log.Unreachable(_logger, _spill.Bytes, ex);
        }
    }

    private static bool IsRedisFailure(Exception ex) =>
        ex is RedisException or TimeoutException or ObjectDisposedException or IOException
        || (ex is AggregateException { InnerException: { } inner } && IsRedisFailure(inner));

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private RedisKey StreamKey(CapiDestination d) => _prefix + "s:" + d.Name();

    private RedisKey EventKey(long seq) => _prefix + "ev:" + seq.ToString(CultureInfo.InvariantCulture);

    private RedisKey MarkerKey(CapiDestination d, long seq) => _prefix + "m:" + d.Name() + ":" + seq.ToString(CultureInfo.InvariantCulture);

    private RedisKey LedgerKey(CapiDestination d, string name, string eventId) =>
        _prefix + "dd:" + DedupKey.Of(d, name, eventId).ToString("x32", CultureInfo.InvariantCulture);

    private RedisKey MarkKey(UInt128 key) => _prefix + "tw:" + key.ToString("x32", CultureInfo.InvariantCulture);

    private RedisKey DeadLetterKey => _prefix + "dl";

    private static string DefaultConsumerName()
    {
        // Host and pid name the instance for an operator; the random part makes each start a new consumer, so a
        // restarted container (same host name, pid 1) never mistakes its previous life's markers for its own.
        string host = Environment.MachineName;
        return $"{host}-{Environment.ProcessId}-{Random.Shared.Next(0x100000, 0xFFFFFF):x6}";
    }

    /// <summary>A stream entry this consumer holds: read or claimed, waiting for its merge window or a retry, or in flight.</summary>
    internal sealed class Held(string id, long seq, long readyMs)
    {
        public string Id { get; } = id;

        public long Seq { get; } = seq;

        public long ReadyMs { get; } = readyMs;

        /// <summary>Set once taken, so a dead letter can name the event.</summary>
        public CapiEvent? Event { get; set; }
    }

    private sealed class DestinationState(CapiDestination destination, RedisKey stream)
    {
        private readonly Lock _gate = new();
        private readonly List<Held> _held = [];
        private readonly HashSet<string> _ids = [];

        public int Signalled;

        public TaskCompletionSource SignalSource = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CapiDestination Destination { get; } = destination;

        public RedisKey Stream { get; } = stream;

        public int HeldCount
        {
            get
            {
                lock (_gate)
                {
                    return _held.Count;
                }
            }
        }

        public Dictionary<long, Held> InFlight { get; } = [];

        public long LastClaimMs { get; set; }

        public RedisValue ClaimCursor { get; set; } = "0-0";

        public int Hold(StreamEntry[] entries)
        {
            int added = 0;
            lock (_gate)
            {
                foreach (StreamEntry entry in entries)
                {
                    if (entry.IsNull || !long.TryParse((string?)entry["s"], CultureInfo.InvariantCulture, out long seq))
                    {
                        continue;
                    }

                    string id = entry.Id!;
                    if (_ids.Contains(id) || InFlightContains(id))
                    {
                        // Claimed back from our own pending list while we still hold or send it.
                        continue;
                    }

                    _ = long.TryParse((string?)entry["r"], CultureInfo.InvariantCulture, out long ready);
                    _ids.Add(id);
                    _held.Add(new Held(id, seq, ready));
                    added++;
                }
            }

            return added;
        }

        public void Requeue(Held held)
        {
            lock (_gate)
            {
                if (_ids.Add(held.Id))
                {
                    _held.Insert(0, held);
                }
            }
        }

        /// <summary>Removes and returns the ready entries (oldest first); the take script decides which are still to send.</summary>
        public List<Held> TakeReady(long now, int max)
        {
            var ready = new List<Held>();
            lock (_gate)
            {
                for (int i = 0; i < _held.Count && ready.Count < max; i++)
                {
                    if (_held[i].ReadyMs <= now)
                    {
                        ready.Add(_held[i]);
                    }
                }

                foreach (Held h in ready)
                {
                    _held.Remove(h);
                    _ids.Remove(h.Id);
                }
            }

            return ready;
        }

        public long? NextReadyMs()
        {
            lock (_gate)
            {
                return _held.Count == 0 ? null : _held.Min(static h => h.ReadyMs);
            }
        }

        public void Signal()
        {
            Volatile.Write(ref Signalled, 1);
            Interlocked.Exchange(ref SignalSource, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        private bool InFlightContains(string id) => InFlight.Values.Any(h => h.Id == id);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5501, Level = LogLevel.Information, Message = "CAPI Redis store opened as consumer {Consumer} under prefix {Prefix} (Redis reachable: {Reachable}; spill holds {SpillBytes} bytes)")]
        public static partial void Opened(ILogger logger, string consumer, string prefix, bool reachable, long spillBytes);

        [LoggerMessage(EventId = 5502, Level = LogLevel.Warning, Message = "CAPI Redis unreachable: new events go to the local spill ({SpillBytes} bytes held); delivery pauses")]
        public static partial void Unreachable(ILogger logger, long spillBytes, Exception exception);

        [LoggerMessage(EventId = 5503, Level = LogLevel.Information, Message = "CAPI Redis reachable; draining the spill ({SpillBytes} bytes)")]
        public static partial void Reachable(ILogger logger, long spillBytes);

        [LoggerMessage(EventId = 5504, Level = LogLevel.Information, Message = "CAPI spill drained into Redis: {Events} events")]
        public static partial void Drained(ILogger logger, int events);

        [LoggerMessage(EventId = 5505, Level = LogLevel.Warning, Message = "CAPI spill full ({SpillBytes} of {MaxBytes} bytes) while Redis is unreachable: new events refused")]
        public static partial void SpillFull(ILogger logger, long spillBytes, long maxBytes);

        [LoggerMessage(EventId = 5506, Level = LogLevel.Error, Message = "CAPI spill write failed: new events refused")]
        public static partial void SpillFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 5507, Level = LogLevel.Information, Message = "CAPI {Destination}: claimed {Count} entries another consumer left pending")]
        public static partial void Claimed(ILogger logger, CapiDestination destination, int count);

        [LoggerMessage(EventId = 5508, Level = LogLevel.Warning, Message = "CAPI {Destination}: {Count} events were being sent by {Consumer} when it stopped; dead-lettered as uncertain (replay to resend)")]
        public static partial void Uncertain(ILogger logger, string destination, int count, string consumer);
    }
}
