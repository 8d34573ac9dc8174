using System.Buffers.Binary;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>The dedup ledger's memory budget: evictions counted, logged, gauged and made durable as a floor record.</summary>
internal sealed partial class JournalStore
{
    /// <summary>Evictions already counted in the metric and written as a floor record.</summary>
    private long _reportedEvictions;

    /// <summary>The ledger's floor, for the gauge (read outside the lock).</summary>
    private long _ledgerFloorMs;

    /// <summary>The effective dedup window: the TTL, less how far the eviction floor is ahead of the clock.</summary>
    internal long DedupWindowMs(long nowMs) => Math.Clamp(_dedupTtlMs - (Volatile.Read(ref _ledgerFloorMs) - nowMs), 0, _dedupTtlMs);

    /// <summary>
    /// After a batch of ledger inserts (or replay): new evictions are counted, logged (at most hourly) and their floor
    /// written, so replay drops the same keys; on opening, a window still shortened by a floor from the journal is
    /// logged too. Under the lock, with the writer open.
    /// </summary>
    private void ReportEvictions(long now, bool opening = false)
    {
        var evicted = _ledger.EvictedKeys;
        Volatile.Write(ref _ledgerFloorMs, _ledger.FloorMs);
        if (evicted == _reportedEvictions && !(opening && _ledger.FloorMs > now))
        {
            return;
        }

        if (evicted != _reportedEvictions)
        {
            _metrics?.DedupEvicted(evicted - _reportedEvictions);
            _reportedEvictions = evicted;
            AppendLedgerFloor();
        }

        if (_evictionLog.ShouldLog(out var suppressed))
        {
            Log.LedgerEvicting(_logger, _ledger.MaxBytes, _ledger.Count, evicted, suppressed,
                DedupWindowMs(now) / 3_600_000.0, _dedupTtlMs / 3_600_000.0);
        }
    }

    /// <summary>Writes the ledger's floor while it still shortens the window (an older one is below every live expiry).</summary>
    private void AppendLedgerFloor()
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(payload, _ledger.FloorMs);
        Reserve(payload.Length);
        Enqueue(new JournalOp { Type = RecordType.LedgerFloor, Payload = payload }, payload.Length);
    }
}
