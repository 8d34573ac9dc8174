using System.Buffers.Binary;
using System.Text.Json;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>Opening: the segments are replayed, oldest first, into the in-memory entries and the dedup ledger.</summary>
internal sealed partial class JournalStore
{
    public Task OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        var now = NowMs();
        var files = new List<(long Id, string Path)>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*.journal"))
        {
            if (JournalFormat.TryParseSegmentName(Path.GetFileName(path), out var id))
            {
                files.Add((id, path));
            }
        }

        files.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        lock (_gate)
        {
            for (var i = 0; i < files.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReplaySegment(files[i].Id, files[i].Path, isLast: i == files.Count - 1, now);
            }

            // A floor read late in the journal drops the keys replayed before it that it covers.
            _ledger.RemoveExpired(now);

            foreach (var entry in _events.Values.ToList())
            {
                if (entry.IsComplete)
                {
                    Retire(entry);
                    continue;
                }

                foreach (var d in CapiDestinations.All)
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
            ReportEvictions(now, opening: true);
            _lastSweepMs = now;
            Log.Opened(_logger, _directory, _events.Count, _ledger.Count, _segments.Count, _bytes);
        }

        foreach (var d in CapiDestinations.All)
        {
            Signal(d);
        }

        return Task.CompletedTask;
    }

    private void ReplaySegment(long id, string path, bool isLast, long now)
    {
        var segment = new SegmentInfo(id);
        _segments[id] = segment;
        var data = File.ReadAllBytes(path);
        var pos = 0;
        while (pos + JournalFormat.HeaderSize <= data.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos));
            if (length > JournalFormat.MaxPayload || pos + JournalFormat.HeaderSize + length > data.Length)
            {
                break;
            }

            var crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
            var type = (RecordType)data[pos + 8];
            ReadOnlySpan<byte> payload = data.AsSpan(pos + JournalFormat.HeaderSize, length);
            if (crc != JournalFormat.Crc((byte)type, payload))
            {
                break;
            }

            var framed = JournalFormat.HeaderSize + length;
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
                var seq = BinaryPrimitives.ReadInt64LittleEndian(payload);
                int done = payload[8];
                int deadCount = payload[9];
                var offset = 10;
                Dictionary<CapiDestination, DeadInfo>? dead = null;
                for (var i = 0; i < deadCount; i++)
                {
                    var d = (CapiDestination)payload[offset];
                    var failed = BinaryPrimitives.ReadInt64LittleEndian(payload[(offset + 1)..]);
                    offset += 9;
                    var error = JournalFormat.ReadString(payload[offset..], out var consumed);
                    offset += consumed;
                    (dead ??= [])[d] = new DeadInfo(failed, error);
                }

                var e = JsonSerializer.Deserialize(payload[offset..], CapiJsonContext.Default.CapiEvent);
                if (e is null)
                {
                    return;
                }

                e.Seq = seq;
                if (_events.TryGetValue(seq, out var previous) && _segments.TryGetValue(previous.Segment, out var old))
                {
                    old.LiveBytes -= previous.Bytes;
                }

                var deadMask = 0;
                foreach (var d in dead?.Keys ?? Enumerable.Empty<CapiDestination>())
                {
                    deadMask |= d.Bit();
                }

                Span<UInt128> keys = stackalloc UInt128[CapiDestinations.Count];
                foreach (var d in CapiDestinations.All)
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
                var expires = e.AcceptedMs + _dedupTtlMs;
                foreach (var d in CapiDestinations.All)
                {
                    if ((e.Destinations & d.Bit()) != 0)
                    {
                        _ledger.Restore(FingerprintLedger.Fingerprint(keys[(int)d]), seq, expires, FingerprintLedger.LiveSegment, now);
                    }
                }

                break;
            }

            case RecordType.Done:
            {
                var seq = BinaryPrimitives.ReadInt64LittleEndian(payload);
                var d = (CapiDestination)payload[8];
                var kind = (CompletionKind)payload[9];
                var at = BinaryPrimitives.ReadInt64LittleEndian(payload[10..]);
                var error = JournalFormat.ReadString(payload[18..], out _);
                if (!_events.TryGetValue(seq, out var entry))
                {
                    // Its event was compacted away complete, or rewritten later with this state included.
                    return;
                }

                var bit = d.Bit();
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
                var key = BinaryPrimitives.ReadUInt128LittleEndian(payload);
                var seq = BinaryPrimitives.ReadInt64LittleEndian(payload[16..]);
                var expires = BinaryPrimitives.ReadInt64LittleEndian(payload[24..]);
                _ledger.Restore(FingerprintLedger.Fingerprint(key), seq, expires, (uint)segment.Id, now);

                _seq = Math.Max(_seq, seq);
                break;
            }

            case RecordType.LedgerFingerprint:
            {
                var fingerprint = BinaryPrimitives.ReadUInt64LittleEndian(payload);
                var seq = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
                var expires = BinaryPrimitives.ReadInt64LittleEndian(payload[16..]);
                _ledger.Restore(fingerprint, seq, expires, (uint)segment.Id, now);
                _seq = Math.Max(_seq, seq);
                break;
            }

            case RecordType.LedgerFloor:
                _ledger.RaiseFloor(BinaryPrimitives.ReadInt64LittleEndian(payload));
                break;

            default:
                break;
        }
    }
}
