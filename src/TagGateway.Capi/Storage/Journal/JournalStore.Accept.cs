using System.Text.Json;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>Accepting: dedup against the ledger, merge into a waiting twin, append; and the gap-fill marks.</summary>
internal sealed partial class JournalStore
{
    public async ValueTask<AcceptStatus[]> AcceptAsync(IReadOnlyList<CapiEvent> events, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var statuses = new AcceptStatus[events.Count];

        // Serialized outside the lock: the common case (a new event) needs no re-serialization.
        var json = new byte[events.Count][];
        long estimate = 0;
        for (var i = 0; i < events.Count; i++)
        {
            json[i] = JsonSerializer.SerializeToUtf8Bytes(events[i], CapiJsonContext.Default.CapiEvent);
            estimate += json[i].Length + 32;
        }

        JournalOp? last = null;
        var signalMask = 0;
        lock (_gate)
        {
            EnsureOpen();
            ForgetWritten();
            var now = NowMs();
            if (_bytes + estimate > _options.MaxBytes || _faulted)
            {
                Array.Fill(statuses, AcceptStatus.StoreFull);
                Log.StoreFull(_logger, _bytes, _options.MaxBytes);
                return statuses;
            }

            var memory = MemoryBytes;
            if (memory + ((long)events.Count * EntryCostBytes) > _options.MaxMemoryBytes)
            {
                // The backlog's own bound: refused like a full disk, so the caller keeps the events and retries.
                Array.Fill(statuses, AcceptStatus.StoreFull);
                Log.MemoryFull(_logger, _events.Count, memory, _options.MaxMemoryBytes);
                return statuses;
            }

            Dictionary<Entry, (CapiEvent Event, bool Changed)>? mergedTwins = null;
            Span<UInt128> keys = stackalloc UInt128[CapiDestinations.Count];
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (e.Destinations == 0)
                {
                    statuses[i] = AcceptStatus.NoDestination;
                    continue;
                }

                var remaining = e.Destinations;
                var merged = false;
                foreach (var d in CapiDestinations.All)
                {
                    var bit = d.Bit();
                    if ((e.Destinations & bit) == 0)
                    {
                        continue;
                    }

                    var key = keys[(int)d] = DedupKey.Of(d, e.Name, e.EventId);
                    if (!_ledger.TryGet(FingerprintLedger.Fingerprint(key), now, out var seqLow))
                    {
                        continue;
                    }

                    remaining &= ~bit;
                    if (_events.TryGetValue(SeqFromLow(seqLow), out var twin) && twin.Keys.AsSpan().Contains(key)
                        && (twin.Pending & bit) != 0 && (twin.InFlight & bit) == 0)
                    {
                        merged = true;
                        _metrics?.Merged(d);
                        mergedTwins ??= [];
                        if (!mergedTwins.TryGetValue(twin, out var stored))
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
                var body = json[i];
                if (remaining != e.Destinations)
                {
                    e.Destinations = remaining;
                    body = JsonSerializer.SerializeToUtf8Bytes(e, CapiJsonContext.Default.CapiEvent);
                }

                var expires = e.AcceptedMs + _dedupTtlMs;
                foreach (var d in CapiDestinations.All)
                {
                    if ((remaining & d.Bit()) != 0)
                    {
                        _ledger.Set(FingerprintLedger.Fingerprint(keys[(int)d]), e.Seq, expires, FingerprintLedger.LiveSegment, now);
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
                foreach ((var twin, (var stored, var changed)) in mergedTwins)
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

            ReportEvictions(now);
            MaybeSweep(now);
        }

        SignalMask(signalMask);
        if (durable && last?.Durable is { } tcs)
        {
            await tcs.Task.WaitAsync(cancellationToken);
        }

        return statuses;
    }

    public ValueTask SetMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        lock (_gate)
        {
            EnsureOpen();
            var now = NowMs();
            var expires = now + _dedupTtlMs;
            foreach (var key in keys)
            {
                var fingerprint = FingerprintLedger.Fingerprint(key);
                if (_ledger.TryGet(fingerprint, now, out _))
                {
                    continue;
                }

                // A ledger record with no event (seq 0): replayed on open and carried by compaction like any kept key.
                AppendLedger(fingerprint, 0, expires);
                _ledger.Set(fingerprint, 0, expires, (uint)_active.Id, now);
            }

            ReportEvictions(now);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool[]> HasMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new bool[keys.Count];
        lock (_gate)
        {
            var now = NowMs();
            for (var i = 0; i < keys.Count; i++)
            {
                found[i] = _ledger.TryGet(FingerprintLedger.Fingerprint(keys[i]), now, out _);
            }
        }

        return ValueTask.FromResult(found);
    }

    private static UInt128[] KeysOf(int destinations, ReadOnlySpan<UInt128> keys)
    {
        var result = new UInt128[System.Numerics.BitOperations.PopCount((uint)destinations)];
        var i = 0;
        foreach (var d in CapiDestinations.All)
        {
            if ((destinations & d.Bit()) != 0)
            {
                result[i++] = keys[(int)d];
            }
        }

        return result;
    }
}
