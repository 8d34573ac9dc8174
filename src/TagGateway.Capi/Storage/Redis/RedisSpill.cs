using System.Buffers.Binary;
using System.Text.Json;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage.Journal;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>
/// Events accepted while Redis is unreachable: appended to a local file and fsync'd before the caller is answered, so
/// a 202 during an outage is as durable as the instance's disk. Bounded: past <c>maxBytes</c> the caller is refused
/// (503), never accepted and then dropped. Drained into Redis when it returns: the active file is sealed, its events
/// are accepted into Redis, then it is deleted; a crash mid-drain drains the file again and the Redis dedup ledger
/// turns the repeats into duplicates.
/// </summary>
/// <remarks>Framing is the journal's (length, CRC-32C, type, payload), so a torn tail is detected and skipped.</remarks>
internal sealed class RedisSpill : IDisposable
{
    private const string Extension = ".spill";

    private readonly Lock _gate = new();
    private readonly string _directory;
    private readonly long _maxBytes;
    private FileStream? _active;
    private long _activeId;
    private long _bytes;

    public RedisSpill(string directory, long maxBytes)
    {
        _directory = Path.GetFullPath(directory);
        _maxBytes = maxBytes;
    }

    /// <summary>Bytes held (sealed files waiting to be drained and the active one).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public bool IsEmpty => Bytes == 0;

    public void Open()
    {
        Directory.CreateDirectory(_directory);
        lock (_gate)
        {
            foreach ((var id, var path) in Files())
            {
                _activeId = Math.Max(_activeId, id);
                _bytes += new FileInfo(path).Length;
            }
        }
    }

    /// <summary>Appends and fsyncs the events; false when the spill is at its bound (nothing written).</summary>
    public bool TryAppend(IReadOnlyList<CapiEvent> events)
    {
        var payloads = new byte[events.Count][];
        long total = 0;
        for (var i = 0; i < events.Count; i++)
        {
            payloads[i] = JsonSerializer.SerializeToUtf8Bytes(events[i], CapiJsonContext.Default.CapiEvent);
            total += JournalFormat.HeaderSize + payloads[i].Length;
        }

        lock (_gate)
        {
            if (_bytes + total > _maxBytes)
            {
                return false;
            }

            _active ??= OpenActive();
            var start = _active.Position;
            try
            {
                Span<byte> header = stackalloc byte[JournalFormat.HeaderSize];
                foreach (var payload in payloads)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
                    BinaryPrimitives.WriteUInt32LittleEndian(header[4..], JournalFormat.Crc((byte)RecordType.Full, payload));
                    header[8] = (byte)RecordType.Full;
                    _active.Write(header);
                    _active.Write(payload);
                }

                _active.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // A partial append is cut off, so the file holds only whole, acknowledged batches.
                _active.SetLength(start);
                _active.Position = start;
                throw;
            }

            _bytes += total;
            return true;
        }
    }

    /// <summary>Seals the active file (new events go to a new one) and lists every sealed file, oldest first.</summary>
    public List<string> Seal()
    {
        lock (_gate)
        {
            if (_active is not null)
            {
                _active.Dispose();
                _active = null;
            }

            return [.. Files().Select(static f => f.Path)];
        }
    }

    /// <summary>Reads a sealed file's events; a torn or corrupt tail ends the read (nothing after it was acknowledged).</summary>
    public static List<CapiEvent> Read(string path)
    {
        var data = File.ReadAllBytes(path);
        var events = new List<CapiEvent>();
        var pos = 0;
        while (pos + JournalFormat.HeaderSize <= data.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos));
            if (length > JournalFormat.MaxPayload || pos + JournalFormat.HeaderSize + length > data.Length)
            {
                break;
            }

            ReadOnlySpan<byte> payload = data.AsSpan(pos + JournalFormat.HeaderSize, length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4)) != JournalFormat.Crc(data[pos + 8], payload))
            {
                break;
            }

            if (JsonSerializer.Deserialize(payload, CapiJsonContext.Default.CapiEvent) is { } e)
            {
                events.Add(e);
            }

            pos += JournalFormat.HeaderSize + length;
        }

        return events;
    }

    /// <summary>Deletes a drained file.</summary>
    public void Delete(string path)
    {
        lock (_gate)
        {
            var length = new FileInfo(path).Length;
            File.Delete(path);
            _bytes = Math.Max(0, _bytes - length);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _active?.Dispose();
            _active = null;
        }
    }

    private FileStream OpenActive()
    {
        _activeId++;
        var path = Path.Combine(_directory, $"{_activeId:D10}{Extension}");
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        stream.Seek(0, SeekOrigin.End);
        return stream;
    }

    private List<(long Id, string Path)> Files()
    {
        var files = new List<(long, string)>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + Extension))
        {
            var name = Path.GetFileName(path);
            if (long.TryParse(name.AsSpan(0, name.Length - Extension.Length), out var id))
            {
                files.Add((id, path));
            }
        }

        files.Sort(static (a, b) => a.Item1.CompareTo(b.Item1));
        return files;
    }
}
