using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>
/// The embedded store: an append-only, CRC-framed, fsync'd journal in segments, replayed into memory on open.
/// <list type="bullet">
/// <item>Every state change is a record: an event's whole state (<see cref="RecordType.Full"/>), one destination finishing
/// with it (<see cref="RecordType.Done"/>), or a dedup key that outlives its event (<see cref="RecordType.Ledger"/>).</item>
/// <item>One writer thread group-commits: many records, one fsync. <see cref="AcceptAsync"/> with durable=true returns
/// after the fsync covering its records, so a 202 is never ahead of the disk; a kill -9 loses only unacknowledged work.</item>
/// <item>Compaction rewrites the still-live events and still-valid dedup keys of the oldest sealed segment into the active
/// one, fsyncs, then deletes the old segment; segments are compacted strictly oldest first, so a later record never refers
/// to state that a deleted segment held alone.</item>
/// <item>Disk is bounded by <see cref="StoreOptions.MaxBytes"/>: at the bound new events are refused; accepted ones are
/// never evicted.</item>
/// <item>Memory holds only a small <see cref="Entry"/> per live event (masks, times, dedup keys and where its latest full
/// record is); the event itself is read back from its segment when a batch is due. Until the writer has the record in
/// the file the entry reaches it through the queued operation. The entries are bounded by
/// <see cref="StoreOptions.MaxMemoryBytes"/> the same way as the disk.</item>
/// </list>
/// </summary>
internal sealed partial class JournalStore : ICapiStore
{
    private const int SweepIntervalMs = 2_000;

    /// <summary>
    /// Estimated bytes per live event for one destination: the entry, its dedup key array, its slot in the event
    /// dictionary and its node in the pending set (JournalStoreFootprintTests measures it with a backlog of 50,000).
    /// </summary>
    internal const int EntryCostBytes = 256;

    private readonly Lock _gate = new();
    private readonly StoreOptions _options;
    private readonly long _dedupTtlMs;
    private readonly long _mergeWindowMs;
    private readonly long _deadLetterRetentionMs;
    private readonly TimeProvider _time;
    private readonly CapiMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly string _directory;

    private readonly Dictionary<long, Entry> _events = [];
    private readonly Dictionary<UInt128, LedgerEntry> _ledger = [];
    private readonly SortedSet<long>[] _pending = [.. Enumerable.Range(0, CapiDestinations.Count).Select(static _ => new SortedSet<long>())];
    private readonly SortedDictionary<long, SegmentInfo> _segments = [];
    private readonly TaskCompletionSource[] _signals = [.. Enumerable.Range(0, CapiDestinations.Count).Select(static _ => NewSignal())];
    private readonly int[] _signalled = new int[CapiDestinations.Count];
    private readonly long[] _readyDelayMs = new long[CapiDestinations.Count];

    /// <summary>Full records not yet known to be in the file, in journal order (the writer's order).</summary>
    private readonly Queue<(Entry Entry, JournalOp Op)> _unwritten = new();

    private JournalWriter? _writer;
    private SegmentInfo _active = new(1);
    private long _seq;
    private long _bytes;
    private int _deadLetters;
    private long _lastSweepMs;
    private bool _faulted;

    public JournalStore(StoreOptions options, TimeSpan dedupTtl, TimeSpan mergeWindow, TimeProvider time, ILogger logger, CapiMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _dedupTtlMs = (long)dedupTtl.TotalMilliseconds;
        _mergeWindowMs = (long)mergeWindow.TotalMilliseconds;
        _deadLetterRetentionMs = (long)options.DeadLetterRetention.TotalMilliseconds;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _directory = Path.GetFullPath(options.Path);
    }

    public Task OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        long now = NowMs();
        var files = new List<(long Id, string Path)>();
        foreach (string path in Directory.EnumerateFiles(_directory, "*.journal"))
        {
            if (JournalFormat.TryParseSegmentName(Path.GetFileName(path), out long id))
            {
                files.Add((id, path));
            }
        }

        files.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        lock (_gate)
        {
            for (int i = 0; i < files.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReplaySegment(files[i].Id, files[i].Path, isLast: i == files.Count - 1, now);
            }

            foreach (Entry entry in _events.Values.ToList())
            {
                if (entry.IsComplete)
                {
                    Retire(entry);
                    continue;
                }

                foreach (CapiDestination d in CapiDestinations.All)
                {
                    if ((entry.Pending & d.Bit()) != 0)
                    {
                        _pending[(int)d].Add(entry.Seq);
                    }
                }

                _deadLetters += entry.Dead?.Count ?? 0;
            }

            if (files.Count == 0)
            {
                _segments[_active.Id] = _active;
            }
            else
            {
                _active = _segments[files[^1].Id];
            }

            _writer = new JournalWriter(_directory, _active.Id, OnWriteError);
            _writer.Start();
            _lastSweepMs = now;
            Log.Opened(_logger, _directory, _events.Count, _ledger.Count, _segments.Count, _bytes);
        }

        foreach (CapiDestination d in CapiDestinations.All)
        {
            Signal(d);
        }

        return Task.CompletedTask;
    }

    public async ValueTask<AcceptStatus[]> AcceptAsync(IReadOnlyList<CapiEvent> events, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var statuses = new AcceptStatus[events.Count];

        // Serialized outside the lock: the common case (a new event) needs no re-serialization.
        var json = new byte[events.Count][];
        long estimate = 0;
        for (int i = 0; i < events.Count; i++)
        {
            json[i] = JsonSerializer.SerializeToUtf8Bytes(events[i], CapiJsonContext.Default.CapiEvent);
            estimate += json[i].Length + 32;
        }

        JournalOp? last = null;
        int signalMask = 0;
        lock (_gate)
        {
            EnsureOpen();
            ForgetWritten();
            long now = NowMs();
            if (_bytes + estimate > _options.MaxBytes || _faulted)
            {
                Array.Fill(statuses, AcceptStatus.StoreFull);
                Log.StoreFull(_logger, _bytes, _options.MaxBytes);
                return statuses;
            }

            long memory = MemoryBytes;
            if (memory + ((long)events.Count * EntryCostBytes) > _options.MaxMemoryBytes)
            {
                // The backlog's own bound: refused like a full disk, so the caller keeps the events and retries.
                Array.Fill(statuses, AcceptStatus.StoreFull);
                Log.MemoryFull(_logger, _events.Count, memory, _options.MaxMemoryBytes);
                return statuses;
            }

            Dictionary<Entry, (CapiEvent Event, bool Changed)>? mergedTwins = null;
            Span<UInt128> keys = stackalloc UInt128[CapiDestinations.Count];
            for (int i = 0; i < events.Count; i++)
            {
                CapiEvent e = events[i];
                if (e.Destinations == 0)
                {
                    statuses[i] = AcceptStatus.NoDestination;
                    continue;
                }

                int remaining = e.Destinations;
                bool merged = false;
                foreach (CapiDestination d in CapiDestinations.All)
                {
                    int bit = d.Bit();
                    if ((e.Destinations & bit) == 0)
                    {
                        continue;
                    }

                    UInt128 key = keys[(int)d] = DedupKey.Of(d, e.Name, e.EventId);
                    if (!_ledger.TryGetValue(key, out LedgerEntry known) || known.ExpiresMs <= now)
                    {
                        continue;
                    }

                    remaining &= ~bit;
                    if (_events.TryGetValue(known.Seq, out Entry? twin) && (twin.Pending & bit) != 0 && (twin.InFlight & bit) == 0)
                    {
                        merged = true;
                        _metrics?.Merged(d);
                        mergedTwins ??= [];
                        if (!mergedTwins.TryGetValue(twin, out (CapiEvent Event, bool Changed) stored))
                        {
                            // Rare (a repeat within the merge window): the twin is read back to merge into it.
                            stored = (LoadEvent(twin)!, false);
                        }

                        if (stored.Event is not null && stored.Event.Identity.MergeFrom(e.Identity))
                        {
                            stored.Changed = true;
                        }

                        mergedTwins[twin] = stored;
                    }
                    else
                    {
                        _metrics?.Duplicate(d);
                    }
                }

                if (remaining == 0)
                {
                    statuses[i] = merged ? AcceptStatus.Merged : AcceptStatus.Duplicate;
                    continue;
                }

                e.Seq = ++_seq;
                byte[] body = json[i];
                if (remaining != e.Destinations)
                {
                    e.Destinations = remaining;
                    body = JsonSerializer.SerializeToUtf8Bytes(e, CapiJsonContext.Default.CapiEvent);
                }

                long expires = e.AcceptedMs + _dedupTtlMs;
                foreach (CapiDestination d in CapiDestinations.All)
                {
                    if ((remaining & d.Bit()) != 0)
                    {
                        _ledger[keys[(int)d]] = new LedgerEntry(e.Seq, expires);
                        _pending[(int)d].Add(e.Seq);
                    }
                }

                var entry = new Entry(e.Seq, e.AcceptedMs, remaining, KeysOf(remaining, keys)) { Pending = remaining, ReadyMs = e.AcceptedMs + _mergeWindowMs };
                _events[e.Seq] = entry;
                last = AppendFull(entry, body);
                signalMask |= remaining;
                statuses[i] = AcceptStatus.Accepted;
            }

            if (mergedTwins is not null)
            {
                foreach ((Entry twin, (CapiEvent stored, bool changed)) in mergedTwins)
                {
                    if (changed)
                    {
                        last = AppendFull(twin, JsonSerializer.SerializeToUtf8Bytes(stored, CapiJsonContext.Default.CapiEvent));
                    }
                }
            }

            if (durable)
            {
                // Even a pure duplicate waits for the disk: its twin may still be on its way there.
                last ??= Enqueue(new JournalOp { Type = RecordType.Done });
            }

            MaybeSweep(now);
        }

        SignalMask(signalMask);
        if (durable && last?.Durable is { } tcs)
        {
            await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return statuses;
    }

    public int TakeReady(CapiDestination destination, long nowMs, int max, List<CapiEvent> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int bit = destination.Bit();
        List<(long Seq, ArraySegment<byte> Json)> taken;
        lock (_gate)
        {
            ForgetWritten();
            SortedSet<long> set = _pending[(int)destination];
            taken = new List<(long, ArraySegment<byte>)>(Math.Min(max, set.Count));
            List<Entry>? unreadable = null;
            foreach (long seq in set)
            {
                if (taken.Count == max)
                {
                    break;
                }

                Entry entry = _events[seq];
                if (entry.ReadyMs + _readyDelayMs[(int)destination] > nowMs)
                {
                    // New events become ready in sequence order; older (released or replayed) ones come first.
                    break;
                }

                // Only the bytes are read under the lock; parsing them happens outside it.
                if (TryReadJson(entry, out ArraySegment<byte> json, out string? error))
                {
                    taken.Add((seq, json));
                }
                else
                {
                    Log.Unreadable(_logger, seq, error);
                    (unreadable ??= []).Add(entry);
                }
            }

            foreach ((long seq, _) in taken)
            {
                set.Remove(seq);
                _events[seq].InFlight |= bit;
            }

            foreach (Entry entry in unreadable ?? [])
            {
                DeadLetterLocked(entry, destination, "journal record unreadable");
            }

            MaybeSweep(nowMs);
        }

        List<CapiEvent>? broken = null;
        foreach ((long seq, ArraySegment<byte> json) in taken)
        {
            CapiEvent? e = Parse(json, out string? error);
            if (e is null)
            {
                Log.Unreadable(_logger, seq, error);
                (broken ??= []).Add(new CapiEvent { Seq = seq });
                continue;
            }

            e.Seq = seq;
            batch.Add(e);
        }

        if (broken is not null)
        {
            lock (_gate)
            {
                foreach (CapiEvent e in broken)
                {
                    if (_events.TryGetValue(e.Seq, out Entry? entry))
                    {
                        entry.InFlight &= ~bit;
                        DeadLetterLocked(entry, destination, "journal record unreadable");
                    }
                }
            }
        }

        return taken.Count - (broken?.Count ?? 0);
    }

    public void Release(CapiDestination destination, IReadOnlyList<CapiEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        int bit = destination.Bit();
        lock (_gate)
        {
            foreach (CapiEvent e in events)
            {
                if (_events.TryGetValue(e.Seq, out Entry? entry) && (entry.InFlight & bit) != 0)
                {
                    entry.InFlight &= ~bit;
                    if ((entry.Pending & bit) != 0)
                    {
                        _pending[(int)destination].Add(e.Seq);
                    }
                }
            }
        }
    }

    public async ValueTask CompleteAsync(CapiDestination destination, IReadOnlyList<Completion> completions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completions);
        int bit = destination.Bit();
        JournalOp? last = null;
        lock (_gate)
        {
            EnsureOpen();
            long now = NowMs();
            foreach (Completion completion in completions)
            {
                if (!_events.TryGetValue(completion.Seq, out Entry? entry))
                {
                    continue;
                }

                entry.InFlight &= ~bit;
                entry.Pending &= ~bit;
                _pending[(int)destination].Remove(completion.Seq);
                if (completion.Kind == CompletionKind.DeadLettered)
                {
                    (entry.Dead ??= [])[destination] = new DeadInfo(now, completion.Error ?? string.Empty);
                    _deadLetters++;
                }
                else
                {
                    entry.Done |= bit;
                }

                last = AppendDone(entry, destination, completion.Kind, now, completion.Error);
                if (entry.IsComplete)
                {
                    Retire(entry);
                }
            }
        }

        if (last?.Durable is { } tcs)
        {
            await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void SetReadyDelay(CapiDestination destination, TimeSpan delay) =>
        _readyDelayMs[(int)destination] = Math.Max(0, (long)delay.TotalMilliseconds);

    public ValueTask SetMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        lock (_gate)
        {
            EnsureOpen();
            long now = NowMs();
            long expires = now + _dedupTtlMs;
            foreach (UInt128 key in keys)
            {
                if (_ledger.TryGetValue(key, out LedgerEntry known) && known.ExpiresMs > now)
                {
                    continue;
                }

                // A ledger record with no event (seq 0): replayed on open and carried by compaction like any kept key.
                _ledger[key] = new LedgerEntry(0, expires);
                AppendLedger(key, 0, expires);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool[]> HasMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new bool[keys.Count];
        lock (_gate)
        {
            long now = NowMs();
            for (int i = 0; i < keys.Count; i++)
            {
                found[i] = _ledger.TryGetValue(keys[i], out LedgerEntry known) && known.ExpiresMs > now;
            }
        }

        return ValueTask.FromResult(found);
    }

    public async Task WaitForWorkAsync(CapiDestination destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The signal is read before the flag is tested: Signal sets the flag before it swaps the signal, so one that
        // lands in between is seen either as the flag or as the completion of the signal read here. Tested the other
        // way round, it was lost until the poll timeout (forever under a fake clock).
        Task signal = Volatile.Read(ref _signals[(int)destination]).Task;
        if (Interlocked.Exchange(ref _signalled[(int)destination], 0) == 1)
        {
            return;
        }

        try
        {
            await signal.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Nothing new: the caller polls for events whose merge window has passed.
        }

        Interlocked.Exchange(ref _signalled[(int)destination], 0);
    }

    public long? NextReadyMs(CapiDestination destination)
    {
        lock (_gate)
        {
            SortedSet<long> set = _pending[(int)destination];
            return set.Count == 0 ? null : _events[set.Min].ReadyMs + _readyDelayMs[(int)destination];
        }
    }

    public IReadOnlyList<DeadLetter> DeadLetters(CapiDestination? destination, int limit)
    {
        var found = new List<(Entry Entry, CapiDestination Destination, DeadInfo Info)>();
        var list = new List<DeadLetter>();
        lock (_gate)
        {
            foreach (Entry entry in _events.Values)
            {
                if (entry.Dead is null)
                {
                    continue;
                }

                foreach ((CapiDestination d, DeadInfo info) in entry.Dead)
                {
                    if (destination is null || destination == d)
                    {
                        found.Add((entry, d, info));
                    }
                }
            }

            found.Sort(static (a, b) => a.Entry.Seq != b.Entry.Seq ? a.Entry.Seq.CompareTo(b.Entry.Seq) : a.Destination.CompareTo(b.Destination));
            if (found.Count > limit)
            {
                found.RemoveRange(limit, found.Count - limit);
            }

            // Names and ids come from the journal: only the listed ones are read.
            Entry? previous = null;
            CapiEvent? e = null;
            foreach ((Entry entry, CapiDestination d, DeadInfo info) in found)
            {
                if (!ReferenceEquals(entry, previous))
                {
                    e = LoadEvent(entry);
                    previous = entry;
                }

                list.Add(new DeadLetter(entry.Seq, d, e?.Name ?? "?", e?.EventId ?? "?", e?.TimeMs ?? 0, info.FailedMs, info.Error));
            }
        }

        return list;
    }

    public async ValueTask<int> ReplayAsync(long seq, CapiDestination? destination, CancellationToken cancellationToken)
    {
        JournalOp? last = null;
        int replayed = 0;
        int mask = 0;
        lock (_gate)
        {
            EnsureOpen();
            if (!_events.TryGetValue(seq, out Entry? entry) || entry.Dead is null)
            {
                return 0;
            }

            long now = NowMs();
            foreach (CapiDestination d in entry.Dead.Keys.ToList())
            {
                if (destination is not null && destination != d)
                {
                    continue;
                }

                entry.Dead.Remove(d);
                _deadLetters--;
                entry.Pending |= d.Bit();
                entry.ReadyMs = Math.Min(entry.ReadyMs, now);
                _pending[(int)d].Add(seq);
                last = AppendDone(entry, d, CompletionKind.Replayed, now, null);
                mask |= d.Bit();
                replayed++;
            }

            if (entry.Dead.Count == 0)
            {
                entry.Dead = null;
            }
        }

        SignalMask(mask);
        if (last?.Durable is { } tcs)
        {
            await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return replayed;
    }

    public StoreStatistics Statistics()
    {
        lock (_gate)
        {
            int[] pending = [.. _pending.Select(static s => s.Count)];
            foreach (Entry entry in _events.Values)
            {
                if (entry.InFlight != 0)
                {
                    foreach (CapiDestination d in CapiDestinations.All)
                    {
                        pending[(int)d] += (entry.InFlight & d.Bit()) != 0 ? 1 : 0;
                    }
                }
            }

            return new StoreStatistics(_bytes, _segments.Count, _events.Count, _ledger.Count, _deadLetters, pending);
        }
    }

    /// <summary>Runs maintenance now (tests and the benchmark call it; the store also runs it every few seconds of activity).</summary>
    internal void Sweep()
    {
        lock (_gate)
        {
            _lastSweepMs = 0;
            MaybeSweep(NowMs());
        }
    }

    public async ValueTask DisposeAsync()
    {
        JournalWriter? writer;
        lock (_gate)
        {
            writer = _writer;
            _writer = null;
        }

        if (writer is not null)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }

        lock (_gate)
        {
            foreach (SegmentInfo segment in _segments.Values)
            {
                segment.CloseReader();
            }
        }
    }

    private void MaybeSweep(long now)
    {
        if (now - _lastSweepMs < SweepIntervalMs)
        {
            return;
        }

        _lastSweepMs = now;
        ExpireDeadLetters(now);
        ExpireLedger(now);
        CompactOldest(now);
    }

    private void ExpireDeadLetters(long now)
    {
        if (_deadLetters == 0)
        {
            return;
        }

        foreach (Entry entry in _events.Values.Where(e => e.Dead is not null).ToList())
        {
            Dictionary<CapiDestination, DeadInfo> dead = entry.Dead!;
            foreach ((CapiDestination d, DeadInfo info) in dead.ToList())
            {
                if (now - info.FailedMs > _deadLetterRetentionMs)
                {
                    dead.Remove(d);
                    _deadLetters--;
                    entry.Done |= d.Bit();
                    AppendDone(entry, d, CompletionKind.Dropped, now, "dead-letter retention elapsed");
                    _metrics?.Dropped(d, "dead_letter_expired");
                }
            }

            if (dead.Count == 0)
            {
                entry.Dead = null;
            }

            if (entry.IsComplete)
            {
                Retire(entry);
            }
        }
    }

    private void ExpireLedger(long now)
    {
        foreach ((UInt128 key, LedgerEntry entry) in _ledger)
        {
            if (entry.ExpiresMs <= now)
            {
                _ledger.Remove(key);
            }
        }
    }

    /// <summary>
    /// Compacts the oldest sealed segment once less than half of it is live, or at once when the store is past three
    /// quarters of its bound, or when its live part is only dedup keys.
    /// </summary>
    private void CompactOldest(long now)
    {
        while (_segments.Count > 1)
        {
            SegmentInfo oldest = _segments.First().Value;
            if (oldest == _active)
            {
                return;
            }

            bool pressure = _bytes > _options.MaxBytes / 4 * 3;
            if (!pressure && oldest.LiveBytes * 2 > oldest.Bytes)
            {
                return;
            }

            int rewritten = 0;
            // No per-segment index of live events (it would cost memory per event): one pass over the entries instead.
            List<Entry> live = [.. _events.Values.Where(e => e.Segment == oldest.Id)];
            live.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
            foreach (Entry entry in live)
            {
                long seq = entry.Seq;
                if (!TryReadJson(entry, out ArraySegment<byte> json, out string? error))
                {
                    // Kept out of the rewrite, the event would vanish with the segment: stop compacting instead.
                    Log.Unreadable(_logger, seq, error);
                    return;
                }

                // The event's bytes are copied as they are: compaction never parses or re-serializes them.
                AppendFull(entry, json.AsSpan());
                rewritten++;
            }

            int keys = 0;
            foreach ((UInt128 key, long seq, long expires) in oldest.Ledger)
            {
                if (expires > now && _ledger.TryGetValue(key, out LedgerEntry current) && current.Seq == seq)
                {
                    AppendLedger(key, seq, expires);
                    keys++;
                }
            }

            _segments.Remove(oldest.Id);
            oldest.CloseReader();
            _bytes -= oldest.Bytes;
            Enqueue(new JournalOp { DeletePath = Path.Combine(_directory, JournalFormat.SegmentName(oldest.Id)) });
            Log.Compacted(_logger, oldest.Id, rewritten, keys, oldest.Bytes);
            if (pressure && oldest.LiveBytes * 2 > oldest.Bytes)
            {
                // Rewriting a mostly-live segment frees little; one per sweep under pressure.
                return;
            }
        }
    }

    private void Retire(Entry entry)
    {
        _events.Remove(entry.Seq);
        if (_segments.TryGetValue(entry.Segment, out SegmentInfo? segment))
        {
            segment.LiveBytes -= entry.Bytes;
            long expires = entry.AcceptedMs + _dedupTtlMs;
            foreach (UInt128 key in entry.Keys)
            {
                segment.Ledger.Add((key, entry.Seq, expires));
            }
        }
    }

    /// <summary>Lets go of the operations the writer has written, so an entry does not keep one for its whole life.</summary>
    private void ForgetWritten()
    {
        while (_unwritten.TryPeek(out (Entry Entry, JournalOp Op) head) && head.Op.Payload is null)
        {
            _unwritten.Dequeue();
            if (ReferenceEquals(head.Entry.Unwritten, head.Op))
            {
                head.Entry.Unwritten = null;
            }
        }
    }

    /// <summary>Estimated memory of the live events' entries (what <see cref="StoreOptions.MaxMemoryBytes"/> bounds).</summary>
    private long MemoryBytes => (long)_events.Count * EntryCostBytes;

    private static UInt128[] KeysOf(int destinations, ReadOnlySpan<UInt128> keys)
    {
        var result = new UInt128[System.Numerics.BitOperations.PopCount((uint)destinations)];
        int i = 0;
        foreach (CapiDestination d in CapiDestinations.All)
        {
            if ((destinations & d.Bit()) != 0)
            {
                result[i++] = keys[(int)d];
            }
        }

        return result;
    }

    /// <summary>
    /// The event JSON of an entry's latest full record: from the queued operation while the writer has not written it,
    /// else read back from its segment and checked (length, CRC, sequence number). Under the lock.
    /// </summary>
    private bool TryReadJson(Entry entry, out ArraySegment<byte> json, out string? error)
    {
        error = null;
        if (entry.Unwritten is { } op)
        {
            if (op.Payload is { } pending)
            {
                json = new ArraySegment<byte>(pending, entry.JsonStart, pending.Length - entry.JsonStart);
                return true;
            }

            // Written: the file has it from now on.
            entry.Unwritten = null;
        }

        json = default;
        if (!_segments.TryGetValue(entry.Segment, out SegmentInfo? segment))
        {
            error = $"segment {entry.Segment} is gone";
            return false;
        }

        byte[] record = new byte[entry.Bytes];
        try
        {
            segment.Reader ??= File.OpenHandle(Path.Combine(_directory, JournalFormat.SegmentName(segment.Id)), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            int read = 0;
            while (read < record.Length)
            {
                int n = RandomAccess.Read(segment.Reader, record.AsSpan(read), entry.Offset + read);
                if (n == 0)
                {
                    error = $"segment {entry.Segment} ends before offset {entry.Offset + record.Length}";
                    return false;
                }

                read += n;
            }
        }
        catch (IOException ex)
        {
            error = ex.Message;
            return false;
        }
        catch (UnauthorizedAccessException ex)
        {
            error = ex.Message;
            return false;
        }

        ReadOnlySpan<byte> payload = record.AsSpan(JournalFormat.HeaderSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != payload.Length
            || record[8] != (byte)RecordType.Full
            || BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(4)) != JournalFormat.Crc(record[8], payload)
            || BinaryPrimitives.ReadInt64LittleEndian(payload) != entry.Seq)
        {
            error = $"no valid full record at offset {entry.Offset} of segment {entry.Segment}";
            return false;
        }

        json = new ArraySegment<byte>(record, JournalFormat.HeaderSize + entry.JsonStart, payload.Length - entry.JsonStart);
        return true;
    }

    private static CapiEvent? Parse(ArraySegment<byte> json, out string? error)
    {
        error = null;
        try
        {
            return JsonSerializer.Deserialize(json.AsSpan(), CapiJsonContext.Default.CapiEvent) ?? throw new JsonException("null event");
        }
        catch (JsonException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>The whole event of an entry (merges, dead-letter listings); null when its record cannot be read. Under the lock.</summary>
    private CapiEvent? LoadEvent(Entry entry)
    {
        if (!TryReadJson(entry, out ArraySegment<byte> json, out string? error))
        {
            Log.Unreadable(_logger, entry.Seq, error);
            return null;
        }

        CapiEvent? e = Parse(json, out error);
        if (e is null)
        {
            Log.Unreadable(_logger, entry.Seq, error);
            return null;
        }

        e.Seq = entry.Seq;
        return e;
    }

    /// <summary>An event whose record cannot be read is dead-lettered, never silently dropped. Under the lock.</summary>
    private void DeadLetterLocked(Entry entry, CapiDestination destination, string error)
    {
        long now = NowMs();
        int bit = destination.Bit();
        entry.Pending &= ~bit;
        _pending[(int)destination].Remove(entry.Seq);
        if (entry.Dead?.ContainsKey(destination) != true)
        {
            _deadLetters++;
        }

        (entry.Dead ??= [])[destination] = new DeadInfo(now, error);
        AppendDone(entry, destination, CompletionKind.DeadLettered, now, error);
        _metrics?.DeadLettered(destination, 1);
    }

    private JournalOp AppendFull(Entry entry, ReadOnlySpan<byte> json)
    {
        int deadLength = 0;
        if (entry.Dead is not null)
        {
            foreach (DeadInfo info in entry.Dead.Values)
            {
                deadLength += 1 + 8 + 2 + Math.Min(Encoding.UTF8.GetByteCount(info.Error), ushort.MaxValue);
            }
        }

        byte[] payload = new byte[8 + 1 + 1 + deadLength + json.Length];
        Span<byte> p = payload;
        BinaryPrimitives.WriteInt64LittleEndian(p, entry.Seq);
        p[8] = (byte)entry.Done;
        p[9] = (byte)(entry.Dead?.Count ?? 0);
        int offset = 10;
        if (entry.Dead is not null)
        {
            foreach ((CapiDestination d, DeadInfo info) in entry.Dead)
            {
                p[offset] = (byte)d;
                BinaryPrimitives.WriteInt64LittleEndian(p[(offset + 1)..], info.FailedMs);
                offset += 9;
                offset += WriteString(p[offset..], info.Error);
            }
        }

        json.CopyTo(p[offset..]);

        Reserve(payload.Length);
        if (entry.Bytes > 0 && _segments.TryGetValue(entry.Segment, out SegmentInfo? previous))
        {
            previous.LiveBytes -= entry.Bytes;
        }

        entry.Segment = _active.Id;
        entry.Offset = checked((int)_active.Bytes);
        entry.Bytes = JournalOp.FramedLength(payload.Length);
        entry.JsonStart = offset;
        _active.LiveBytes += entry.Bytes;
        var op = new JournalOp { Type = RecordType.Full, Payload = payload, Durable = NewDurable() };
        entry.Unwritten = op;
        _unwritten.Enqueue((entry, op));
        return Enqueue(op, payload.Length);
    }

    private JournalOp AppendDone(Entry entry, CapiDestination destination, CompletionKind kind, long now, string? error)
    {
        error ??= string.Empty;
        byte[] payload = new byte[8 + 1 + 1 + 8 + 2 + Math.Min(Encoding.UTF8.GetByteCount(error), ushort.MaxValue)];
        Span<byte> p = payload;
        BinaryPrimitives.WriteInt64LittleEndian(p, entry.Seq);
        p[8] = (byte)destination;
        p[9] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(p[10..], now);
        WriteString(p[18..], error);
        Reserve(payload.Length);
        return Enqueue(new JournalOp { Type = RecordType.Done, Payload = payload, Durable = NewDurable() }, payload.Length);
    }

    private void AppendLedger(UInt128 key, long seq, long expires)
    {
        byte[] payload = new byte[16 + 8 + 8];
        BinaryPrimitives.WriteUInt128LittleEndian(payload, key);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(16), seq);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(24), expires);
        Reserve(payload.Length);
        _active.Ledger.Add((key, seq, expires));
        Enqueue(new JournalOp { Type = RecordType.Ledger, Payload = payload }, payload.Length);
    }

    /// <summary>Rolls to a new segment when the record would not fit in the active one (never splitting a record).</summary>
    private void Reserve(int payloadLength)
    {
        int framed = JournalOp.FramedLength(payloadLength);
        if (_active.Bytes > 0 && _active.Bytes + framed > _options.SegmentBytes)
        {
            _active = new SegmentInfo(_active.Id + 1);
            _segments[_active.Id] = _active;
            Enqueue(new JournalOp { RollTo = _active.Id });
        }
    }

    private JournalOp Enqueue(JournalOp op, int payloadLength = -1)
    {
        if (payloadLength >= 0)
        {
            int framed = JournalOp.FramedLength(payloadLength);
            _active.Bytes += framed;
            _bytes += framed;
        }

        if (op.Payload is null && op.Durable is null && op.RollTo < 0 && op.DeletePath is null)
        {
            op = new JournalOp { Durable = NewDurable() };
        }

        _writer!.Enqueue(op);
        return op;
    }

    private static TaskCompletionSource NewDurable() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void SignalMask(int mask)
    {
        foreach (CapiDestination d in CapiDestinations.All)
        {
            if ((mask & d.Bit()) != 0)
            {
                Signal(d);
            }
        }
    }

    private void Signal(CapiDestination destination)
    {
        Volatile.Write(ref _signalled[(int)destination], 1);
        Interlocked.Exchange(ref _signals[(int)destination], NewSignal()).TrySetResult();
    }

    private void EnsureOpen()
    {
        if (_writer is null)
        {
            throw new InvalidOperationException("The CAPI store is not open.");
        }
    }

    private void OnWriteError(Exception ex)
    {
        _faulted = true;
        Log.WriteFailed(_logger, ex);
    }

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static int WriteString(Span<byte> destination, string value)
    {
        int max = Math.Min(Encoding.UTF8.GetByteCount(value), ushort.MaxValue);
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)max);
        bytes.AsSpan(0, max).CopyTo(destination[2..]);
        return 2 + max;
    }

    private static string ReadString(ReadOnlySpan<byte> source, out int consumed)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(source);
        consumed = 2 + length;
        return Encoding.UTF8.GetString(source.Slice(2, length));
    }

    private void ReplaySegment(long id, string path, bool isLast, long now)
    {
        var segment = new SegmentInfo(id);
        _segments[id] = segment;
        byte[] data = File.ReadAllBytes(path);
        int pos = 0;
        while (pos + JournalFormat.HeaderSize <= data.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos));
            if (length > JournalFormat.MaxPayload || pos + JournalFormat.HeaderSize + length > data.Length)
            {
                break;
            }

            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
            var type = (RecordType)data[pos + 8];
            ReadOnlySpan<byte> payload = data.AsSpan(pos + JournalFormat.HeaderSize, length);
            if (crc != JournalFormat.Crc((byte)type, payload))
            {
                break;
            }

            int framed = JournalFormat.HeaderSize + length;
            ReplayRecord(segment, type, payload, pos, framed, now);
            pos += framed;
        }

        if (pos < data.Length)
        {
            // A torn tail from a crash mid-write: nothing after it was ever acknowledged.
            Log.TornTail(_logger, path, pos, data.Length - pos);
            if (isLast)
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
                stream.SetLength(pos);
                stream.Flush(flushToDisk: true);
            }
        }

        segment.Bytes = pos;
        _bytes += pos;
    }

    private void ReplayRecord(SegmentInfo segment, RecordType type, ReadOnlySpan<byte> payload, long position, int framed, long now)
    {
        switch (type)
        {
            case RecordType.Full:
            {
                long seq = BinaryPrimitives.ReadInt64LittleEndian(payload);
                int done = payload[8];
                int deadCount = payload[9];
                int offset = 10;
                Dictionary<CapiDestination, DeadInfo>? dead = null;
                for (int i = 0; i < deadCount; i++)
                {
                    var d = (CapiDestination)payload[offset];
                    long failed = BinaryPrimitives.ReadInt64LittleEndian(payload[(offset + 1)..]);
                    offset += 9;
                    string error = ReadString(payload[offset..], out int consumed);
                    offset += consumed;
                    (dead ??= [])[d] = new DeadInfo(failed, error);
                }

                CapiEvent? e = JsonSerializer.Deserialize(payload[offset..], CapiJsonContext.Default.CapiEvent);
                if (e is null)
                {
                    return;
                }

                e.Seq = seq;
                if (_events.TryGetValue(seq, out Entry? previous) && _segments.TryGetValue(previous.Segment, out SegmentInfo? old))
                {
                    old.LiveBytes -= previous.Bytes;
                }

                int deadMask = 0;
                foreach (CapiDestination d in dead?.Keys ?? Enumerable.Empty<CapiDestination>())
                {
                    deadMask |= d.Bit();
                }

                Span<UInt128> keys = stackalloc UInt128[CapiDestinations.Count];
                foreach (CapiDestination d in CapiDestinations.All)
                {
                    if ((e.Destinations & d.Bit()) != 0)
                    {
                        keys[(int)d] = DedupKey.Of(d, e.Name, e.EventId);
                    }
                }

                // Only the entry is kept; the parsed event is garbage once its keys and times are taken.
                var entry = new Entry(seq, e.AcceptedMs, e.Destinations, KeysOf(e.Destinations, keys))
                {
                    Done = done,
                    Dead = dead,
                    Pending = e.Destinations & ~done & ~deadMask,
                    ReadyMs = e.AcceptedMs + _mergeWindowMs,
                    Segment = segment.Id,
                    Offset = checked((int)position),
                    Bytes = framed,
                    JsonStart = offset,
                };
                _events[seq] = entry;
                segment.LiveBytes += framed;
                _seq = Math.Max(_seq, seq);
                long expires = e.AcceptedMs + _dedupTtlMs;
                if (expires > now)
                {
                    foreach (CapiDestination d in CapiDestinations.All)
                    {
                        if ((e.Destinations & d.Bit()) != 0)
                        {
                            _ledger[keys[(int)d]] = new LedgerEntry(seq, expires);
                        }
                    }
                }

                break;
            }

            case RecordType.Done:
            {
                long seq = BinaryPrimitives.ReadInt64LittleEndian(payload);
                var d = (CapiDestination)payload[8];
                var kind = (CompletionKind)payload[9];
                long at = BinaryPrimitives.ReadInt64LittleEndian(payload[10..]);
                string error = ReadString(payload[18..], out _);
                if (!_events.TryGetValue(seq, out Entry? entry))
                {
                    // Its event was compacted away complete, or rewritten later with this state included.
                    return;
                }

                int bit = d.Bit();
                switch (kind)
                {
                    case CompletionKind.Delivered or CompletionKind.Dropped:
                        entry.Done |= bit;
                        entry.Pending &= ~bit;
                        entry.Dead?.Remove(d);
                        break;
                    case CompletionKind.DeadLettered:
                        entry.Pending &= ~bit;
                        (entry.Dead ??= [])[d] = new DeadInfo(at, error);
                        break;
                    case CompletionKind.Replayed:
                        entry.Dead?.Remove(d);
                        entry.Pending |= bit;
                        entry.ReadyMs = Math.Min(entry.ReadyMs, at);
                        break;
                    default:
                        break;
                }

                if (entry.Dead is { Count: 0 })
                {
                    entry.Dead = null;
                }

                break;
            }

            case RecordType.Ledger:
            {
                UInt128 key = BinaryPrimitives.ReadUInt128LittleEndian(payload);
                long seq = BinaryPrimitives.ReadInt64LittleEndian(payload[16..]);
                long expires = BinaryPrimitives.ReadInt64LittleEndian(payload[24..]);
                if (expires > now)
                {
                    _ledger[key] = new LedgerEntry(seq, expires);
                    segment.Ledger.Add((key, seq, expires));
                }

                _seq = Math.Max(_seq, seq);
                break;
            }

            default:
                break;
        }
    }

    /// <summary>What memory keeps of a live event: no payload (see the class summary).</summary>
    private sealed class Entry(long seq, long acceptedMs, int destinations, UInt128[] keys)
    {
        public long Seq { get; } = seq;

        public long AcceptedMs { get; } = acceptedMs;

        /// <summary>Destinations the event was stored for.</summary>
        public int Destinations { get; } = destinations;

        /// <summary>Its dedup keys, one per destination in <see cref="Destinations"/> (kept for the ledger when it retires).</summary>
        public UInt128[] Keys { get; } = keys;

        /// <summary>Destinations still to send to (in flight ones included).</summary>
        public int Pending { get; set; }

        public int InFlight { get; set; }

        public int Done { get; set; }

        public Dictionary<CapiDestination, DeadInfo>? Dead { get; set; }

        public long ReadyMs { get; set; }

        /// <summary>The segment holding this event's latest full record, the record's offset in it and its framed size.</summary>
        public long Segment { get; set; }

        public int Offset { get; set; }

        public int Bytes { get; set; }

        /// <summary>Where the event JSON starts in the record's payload.</summary>
        public int JsonStart { get; set; }

        /// <summary>The latest full record's operation; its payload is there until the writer has put it in the file.</summary>
        public JournalOp? Unwritten { get; set; }

        public bool IsComplete => Pending == 0 && InFlight == 0 && (Dead is null || Dead.Count == 0);
    }

    private readonly record struct DeadInfo(long FailedMs, string Error);

    private readonly record struct LedgerEntry(long Seq, long ExpiresMs);

    private sealed class SegmentInfo(long id)
    {
        public long Id { get; } = id;

        public long Bytes { get; set; }

        public long LiveBytes { get; set; }

        public List<(UInt128 Key, long Seq, long Expires)> Ledger { get; } = [];

        /// <summary>Read handle for payloads, opened on first use (the writer has its own).</summary>
        public SafeFileHandle? Reader { get; set; }

        public void CloseReader()
        {
            Reader?.Dispose();
            Reader = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "CAPI store opened at {Directory}: {Events} events pending or dead-lettered, {Keys} dedup keys, {Segments} segments, {Bytes} bytes")]
        public static partial void Opened(ILogger logger, string directory, int events, int keys, int segments, long bytes);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "CAPI store full ({Bytes} of {MaxBytes} bytes): new events refused until delivery frees space")]
        public static partial void StoreFull(ILogger logger, long bytes, long maxBytes);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "CAPI journal {Path}: torn tail at offset {Offset} ({Bytes} bytes) cut off")]
        public static partial void TornTail(ILogger logger, string path, int offset, int bytes);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Debug, Message = "CAPI journal segment {Segment} compacted: {Events} live events and {Keys} dedup keys rewritten, {Bytes} bytes freed")]
        public static partial void Compacted(ILogger logger, long segment, int events, int keys, long bytes);

        [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "CAPI journal write failed; new events are refused")]
        public static partial void WriteFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "CAPI store memory budget reached ({Events} live events, about {Bytes} of {MaxBytes} bytes): new events refused until delivery frees space")]
        public static partial void MemoryFull(ILogger logger, int events, long bytes, long maxBytes);

        [LoggerMessage(EventId = 5007, Level = LogLevel.Error, Message = "CAPI journal record of event {Seq} unreadable ({Error}); the event is dead-lettered")]
        public static partial void Unreadable(ILogger logger, long seq, string? error);
    }
}
