using System.Buffers.Binary;
using System.Threading.Channels;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>One thing for the writer to do, in order.</summary>
internal sealed class JournalOp
{
    public RecordType Type { get; init; }

    private byte[]? _payload;
    private TaskCompletionSource? _durable;

    /// <summary>
    /// Record payload (without framing); null for control operations, and set to null by the writer once the record is
    /// in the file, so the store can keep a reference to its latest record without keeping the bytes in memory.
    /// </summary>
    public byte[]? Payload { get => Volatile.Read(ref _payload); init => _payload = value; }

    /// <summary>Seal the active segment and continue in this one.</summary>
    public long RollTo { get; init; } = -1;

    /// <summary>Delete this sealed segment once everything before it is on disk.</summary>
    public string? DeletePath { get; init; }

    /// <summary>Completed after the fsync that covers this operation; null once it succeeded (a failure stays visible).</summary>
    public TaskCompletionSource? Durable { get => Volatile.Read(ref _durable); init => _durable = value; }

    /// <summary>The writer is done with a record that is written and fsync'd.</summary>
    internal void Written()
    {
        // Cleared before the waiter runs: once a caller sees its record durable, the store reads it from the file.
        var durable = Volatile.Read(ref _durable);
        Volatile.Write(ref _payload, null);
        Volatile.Write(ref _durable, null);
        durable?.TrySetResult();
    }

    public static int FramedLength(int payloadLength) => JournalFormat.HeaderSize + payloadLength;
}

/// <summary>
/// The single writer of the journal, with group commit: it drains every queued record, writes them in one go and
/// fsyncs once, then releases all the callers that waited. Throughput comes from batching fsyncs, not from skipping them.
/// </summary>
internal sealed class JournalWriter : IAsyncDisposable
{
    private const int MaxGroupBytes = 4 * 1024 * 1024;

    private readonly Channel<JournalOp> _ops = Channel.CreateUnbounded<JournalOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _directory;
    private readonly Action<Exception> _onError;
    private FileStream _active;
    private Task? _loop;

    public JournalWriter(string directory, long activeSegment, Action<Exception> onError)
    {
        _directory = directory;
        _onError = onError;
        _active = Open(activeSegment);
    }

    public long GroupCommits { get; private set; }

    public void Start() => _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>Queues an operation; the caller already holds the store's lock, so the journal order is the store's order.</summary>
    public void Enqueue(JournalOp op)
    {
        if (!_ops.Writer.TryWrite(op))
        {
            op.Durable?.TrySetException(new ObjectDisposedException(nameof(JournalWriter)));
        }
    }

    private async Task RunAsync()
    {
        var group = new List<JournalOp>(1024);
        // Allocated, not rented: the shared pool rounds 4 MB + 64 KB up to an 8 MB array, all of it touched when zeroed,
        // and this buffer lives as long as the writer anyway.
        var buffer = new byte[MaxGroupBytes + (64 * 1024)];
        try
        {
            while (await _ops.Reader.WaitToReadAsync())
            {
                var used = 0;
                group.Clear();
                try
                {
                    while (used < MaxGroupBytes && _ops.Reader.TryRead(out var op))
                    {
                        group.Add(op);
                        if (op.Payload is not null)
                        {
                            var need = JournalOp.FramedLength(op.Payload.Length);
                            if (used + need > buffer.Length)
                            {
                                WriteOut(buffer, ref used);
                                if (need > buffer.Length)
                                {
                                    buffer = new byte[need];
                                }
                            }

                            Frame(op, buffer.AsSpan(used));
                            used += need;
                        }
                        else
                        {
                            // Control operations run after everything queued before them is durable.
                            WriteOut(buffer, ref used);
                            _active.Flush(flushToDisk: true);
                            if (op.RollTo >= 0)
                            {
                                await _active.DisposeAsync();
                                _active = Open(op.RollTo);
                            }

                            if (op.DeletePath is not null)
                            {
                                File.Delete(op.DeletePath);
                            }
                        }
                    }

                    WriteOut(buffer, ref used);
                    _active.Flush(flushToDisk: true);
                    GroupCommits++;
                    foreach (var op in group)
                    {
                        op.Written();
                    }
                }
                catch (IOException ex)
                {
                    _onError(ex);
                    foreach (var op in group)
                    {
                        op.Durable?.TrySetException(ex);
                    }
                }
            }
        }
        finally
        {
            await _active.DisposeAsync();
        }
    }

    private void WriteOut(byte[] buffer, ref int used)
    {
        if (used > 0)
        {
            _active.Write(buffer, 0, used);
            used = 0;
        }
    }

    private static void Frame(JournalOp op, Span<byte> destination)
    {
        ReadOnlySpan<byte> payload = op.Payload;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], JournalFormat.Crc((byte)op.Type, payload));
        destination[8] = (byte)op.Type;
        payload.CopyTo(destination[JournalFormat.HeaderSize..]);
    }

    private FileStream Open(long segment)
    {
        var path = Path.Combine(_directory, JournalFormat.SegmentName(segment));
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.None);
        stream.Seek(0, SeekOrigin.End);
        return stream;
    }

    public async ValueTask DisposeAsync()
    {
        _ops.Writer.TryComplete();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (IOException ex)
            {
                _onError(ex);
            }
        }
        else
        {
            await _active.DisposeAsync();
        }
    }
}
