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

    /// <summary>Payload of a <see cref="RecordType.LedgerFingerprint"/> record: fingerprint, sequence number, expiry.</summary>
    private const int LedgerRecordPayload = 8 + 8 + 8;

    private readonly Lock _gate = new();
    private readonly StoreOptions _options;
    private readonly long _dedupTtlMs;
    private readonly long _mergeWindowMs;
    private readonly long _deadLetterRetentionMs;
    private readonly TimeProvider _time;
    private readonly CapiMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly string _directory;

    /// <summary>Every unexpired dedup key and gap-fill mark, as 64-bit fingerprints, within StoreOptions.LedgerMaxBytes.</summary>
    private readonly FingerprintLedger _ledger;

    /// <summary>The ledger's warning (5008) at most once an hour while evictions go on.</summary>
    private readonly LogThrottle _evictionLog;

    private readonly Dictionary<long, Entry> _events = [];
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
        _ledger = new FingerprintLedger(time.GetUtcNow().ToUnixTimeMilliseconds(), options.LedgerMaxBytes);
        _evictionLog = new LogThrottle(time, TimeSpan.FromHours(1));
        metrics?.ObserveDedupWindow(() => DedupWindowMs(NowMs()) / 1000.0);
    }

    public ValueTask<StoreStatistics> StatisticsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            int[] pending = [.. _pending.Select(static s => s.Count)];
            foreach (var entry in _events.Values)
            {
                if (entry.InFlight != 0)
                {
                    foreach (var d in CapiDestinations.All)
                    {
                        pending[(int)d] += (entry.InFlight & d.Bit()) != 0 ? 1 : 0;
                    }
                }
            }

            return new(new StoreStatistics(_bytes, _segments.Count, _events.Count, _ledger.Count, _deadLetters, pending));
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
            await writer.DisposeAsync();
        }

        lock (_gate)
        {
            foreach (var segment in _segments.Values)
            {
                segment.CloseReader();
            }
        }
    }

    /// <summary>Lets go of the operations the writer has written, so an entry does not keep one for its whole life.</summary>
    private void ForgetWritten()
    {
        while (_unwritten.TryPeek(out var head) && head.Op.Payload is null)
        {
            _unwritten.Dequeue();
            if (ReferenceEquals(head.Entry.Unwritten, head.Op))
            {
                head.Entry.Unwritten = null;
            }
        }
    }

    /// <summary>Bytes held by the dedup ledger's table (the footprint test checks it against the heap).</summary>
    internal long LedgerBytes
    {
        get
        {
            lock (_gate)
            {
                return _ledger.Bytes;
            }
        }
    }

    /// <summary>Estimated memory of the live events' entries (what <see cref="StoreOptions.MaxMemoryBytes"/> bounds).</summary>
    private long MemoryBytes => (long)_events.Count * EntryCostBytes;

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
        if (!_segments.TryGetValue(entry.Segment, out var segment))
        {
            error = $"segment {entry.Segment} is gone";
            return false;
        }

        var record = new byte[entry.Bytes];
        try
        {
            segment.Reader ??= File.OpenHandle(Path.Combine(_directory, JournalFormat.SegmentName(segment.Id)), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var read = 0;
            while (read < record.Length)
            {
                var n = RandomAccess.Read(segment.Reader, record.AsSpan(read), entry.Offset + read);
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
        if (!TryReadJson(entry, out var json, out var error))
        {
            Log.Unreadable(_logger, entry.Seq, error);
            return null;
        }

        var e = Parse(json, out error);
        if (e is null)
        {
            Log.Unreadable(_logger, entry.Seq, error);
            return null;
        }

        e.Seq = entry.Seq;
        return e;
    }

    private JournalOp AppendFull(Entry entry, ReadOnlySpan<byte> json)
    {
        var deadLength = 0;
        if (entry.Dead is not null)
        {
            foreach (var info in entry.Dead.Values)
            {
                deadLength += 1 + 8 + 2 + Math.Min(Encoding.UTF8.GetByteCount(info.Error), ushort.MaxValue);
            }
        }

        var payload = new byte[8 + 1 + 1 + deadLength + json.Length];
        Span<byte> p = payload;
        BinaryPrimitives.WriteInt64LittleEndian(p, entry.Seq);
        p[8] = (byte)entry.Done;
        p[9] = (byte)(entry.Dead?.Count ?? 0);
        var offset = 10;
        if (entry.Dead is not null)
        {
            foreach ((var d, var info) in entry.Dead)
            {
                p[offset] = (byte)d;
                BinaryPrimitives.WriteInt64LittleEndian(p[(offset + 1)..], info.FailedMs);
                offset += 9;
                offset += JournalFormat.WriteString(p[offset..], info.Error);
            }
        }

        json.CopyTo(p[offset..]);

        Reserve(payload.Length);
        if (entry.Bytes > 0 && _segments.TryGetValue(entry.Segment, out var previous))
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
        var payload = new byte[8 + 1 + 1 + 8 + 2 + Math.Min(Encoding.UTF8.GetByteCount(error), ushort.MaxValue)];
        Span<byte> p = payload;
        BinaryPrimitives.WriteInt64LittleEndian(p, entry.Seq);
        p[8] = (byte)destination;
        p[9] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(p[10..], now);
        JournalFormat.WriteString(p[18..], error);
        Reserve(payload.Length);
        return Enqueue(new JournalOp { Type = RecordType.Done, Payload = payload, Durable = NewDurable() }, payload.Length);
    }

    /// <summary>Writes a ledger record; the caller then names the active segment as the key's carrier.</summary>
    private void AppendLedger(ulong fingerprint, long seq, long expires)
    {
        var payload = new byte[LedgerRecordPayload];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, fingerprint);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), seq);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(16), expires);
        Reserve(payload.Length);
        Enqueue(new JournalOp { Type = RecordType.LedgerFingerprint, Payload = payload }, payload.Length);
    }

    /// <summary>
    /// A sequence number from its low 32 bits (what the ledger keeps): the latest one at or below the current one.
    /// Exact while fewer than 2^32 events separate the two; a merge also checks the twin's key in full.
    /// </summary>
    private long SeqFromLow(uint low)
    {
        var seq = (_seq & ~0xFFFF_FFFFL) | low;
        return seq > _seq ? seq - (1L << 32) : seq;
    }

    /// <summary>Rolls to a new segment when the record would not fit in the active one (never splitting a record).</summary>
    private void Reserve(int payloadLength)
    {
        var framed = JournalOp.FramedLength(payloadLength);
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
            var framed = JournalOp.FramedLength(payloadLength);
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
        foreach (var d in CapiDestinations.All)
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

    private sealed class SegmentInfo(long id)
    {
        public long Id { get; } = id;

        public long Bytes { get; set; }

        public long LiveBytes { get; set; }

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

        [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "CAPI dedup ledger at its memory budget (Capi:Store:LedgerMaxBytes = {MaxBytes} bytes, {Keys} keys held): {Evicted} keys closest to expiry evicted since start ({Suppressed} evictions not logged), so the dedup window is {WindowHours:0.0} h instead of {TtlHours:0.0} h. Repeats older than that are sent again (the platforms dedup by event id); raise Capi:Store:LedgerMaxBytes to keep the whole window")]
        public static partial void LedgerEvicting(ILogger logger, long maxBytes, int keys, long evicted, long suppressed, double windowHours, double ttlHours);
    }
}
