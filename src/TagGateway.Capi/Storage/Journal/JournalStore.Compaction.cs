using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>Maintenance: expiring ledger keys and compacting the oldest segment.</summary>
internal sealed partial class JournalStore
{
    /// <summary>Runs maintenance now (tests and the benchmark call it; the store also runs it every few seconds of activity).</summary>
    internal void Sweep()
    {
        lock (_gate)
        {
            _lastSweepMs = 0;
            MaybeSweep(NowMs());
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

    private void ExpireLedger(long now)
    {
        _ledger.RemoveExpired(now);
    }

    /// <summary>
    /// Compacts the oldest sealed segment once less than half of it is live (live events' records and the ledger records
    /// of the keys it still carries), or at once when the store is past three quarters of its bound.
    /// </summary>
    private void CompactOldest(long now)
    {
        while (_segments.Count > 1)
        {
            var oldest = _segments.First().Value;
            if (oldest == _active)
            {
                return;
            }

            var pressure = _bytes > _options.MaxBytes / 4 * 3;
            if (!pressure && oldest.LiveBytes * 2 > oldest.Bytes)
            {
                return;
            }

            // The keys it carries count as live: a segment of nothing but still-held keys (what compaction itself writes
            // once more keys are held than a segment takes) would otherwise be rewritten again and again, forever.
            var carried = _ledger.InSegment((uint)oldest.Id, now);
            var liveBytes = oldest.LiveBytes + ((long)carried.Count * JournalOp.FramedLength(LedgerRecordPayload));
            if (!pressure && liveBytes * 2 > oldest.Bytes)
            {
                return;
            }

            var rewritten = 0;
            // No per-segment index of live events (it would cost memory per event): one pass over the entries instead.
            List<Entry> live = [.. _events.Values.Where(e => e.Segment == oldest.Id)];
            live.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
            foreach (var entry in live)
            {
                var seq = entry.Seq;
                if (!TryReadJson(entry, out var json, out var error))
                {
                    // Kept out of the rewrite, the event would vanish with the segment: stop compacting instead.
                    Log.Unreadable(_logger, seq, error);
                    return;
                }

                // The event's bytes are copied as they are: compaction never parses or re-serializes them.
                AppendFull(entry, json.AsSpan());
                rewritten++;
            }

            var keys = 0;
            // The keys this segment carries (retired events', marks, earlier carried ones) move to the active one.
            foreach (var slot in carried)
            {
                AppendLedger(_ledger.FingerprintAt(slot), SeqFromLow(_ledger.SeqAt(slot)), _ledger.ExpiresAt(slot));
                _ledger.MoveTo(slot, (uint)_active.Id);
                keys++;
            }

            if (_ledger.FloorMs > now)
            {
                // The floor may have been in the segment going away: it still shortens the window, so it moves too.
                AppendLedgerFloor();
            }

            _segments.Remove(oldest.Id);
            oldest.CloseReader();
            _bytes -= oldest.Bytes;
            Enqueue(new JournalOp { DeletePath = Path.Combine(_directory, JournalFormat.SegmentName(oldest.Id)) });
            Log.Compacted(_logger, oldest.Id, rewritten, keys, oldest.Bytes);
            if (pressure && liveBytes * 2 > oldest.Bytes)
            {
                // Rewriting a mostly-live segment frees little; one per sweep under pressure.
                return;
            }
        }
    }

    private void Retire(Entry entry)
    {
        _events.Remove(entry.Seq);
        if (_segments.TryGetValue(entry.Segment, out var segment))
        {
            segment.LiveBytes -= entry.Bytes;
            foreach (var key in entry.Keys)
            {
                // From now on the segment holding its last full record carries the key through compaction.
                _ledger.Retire(FingerprintLedger.Fingerprint(key), entry.Seq, (uint)segment.Id);
            }
        }
    }
}
