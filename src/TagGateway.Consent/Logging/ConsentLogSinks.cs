namespace TagGateway.Consent.Logging;

/// <summary>Where formatted audit lines go. Used by the single writer task only, so implementations need no locking.</summary>
internal interface IConsentLogSink : IAsyncDisposable
{
    /// <summary>Appends one complete line (newline included); may buffer.</summary>
    void WriteLine(ReadOnlySpan<byte> line);

    ValueTask FlushAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Lines to a stream (stdout in production). Lines are gathered into writes of at most 4 KiB that always end on a line
/// boundary: the host's console logger shares stdout, and a pipe write of up to PIPE_BUF (4096) bytes is never interleaved
/// with another writer's, so no audit line is ever torn.
/// </summary>
internal sealed class StreamLogSink : IConsentLogSink
{
    internal const int ChunkSize = 4096;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[ChunkSize];
    private int _length;

    public StreamLogSink(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    public void WriteLine(ReadOnlySpan<byte> line)
    {
        if (_length + line.Length > ChunkSize)
        {
            WriteBuffer();
        }

        if (line.Length > ChunkSize)
        {
            _stream.Write(line);
            return;
        }

        line.CopyTo(_buffer.AsSpan(_length));
        _length += line.Length;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        WriteBuffer();
        await _stream.FlushAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        WriteBuffer();
        await _stream.DisposeAsync();
    }

    private void WriteBuffer()
    {
        if (_length > 0)
        {
            _stream.Write(_buffer, 0, _length);
            _length = 0;
        }
    }
}

/// <summary>
/// Lines to a file that rotates by size: when the next line would push it past MaxFileBytes, path becomes path.1,
/// path.1 becomes path.2, … and the file beyond MaxFiles is deleted. A line is never split across files.
/// </summary>
internal sealed class RotatingFileLogSink : IConsentLogSink
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private FileStream _stream;
    private long _size;

    public RotatingFileLogSink(string path, long maxBytes, int maxFiles)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFiles, 1);
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;

        var directory = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _stream = Open(FileMode.Append);
        _size = _stream.Length;
    }

    /// <summary>Number of rotations performed, for diagnostics.</summary>
    public int Rotations { get; private set; }

    public void WriteLine(ReadOnlySpan<byte> line)
    {
        if (_size > 0 && _size + line.Length > _maxBytes)
        {
            Rotate();
        }

        _stream.Write(line);
        _size += line.Length;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => new(_stream.FlushAsync(cancellationToken));

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    private void Rotate()
    {
        _stream.Dispose();
        if (_maxFiles == 1)
        {
            _stream = Open(FileMode.Create);
        }
        else
        {
            File.Delete(RotatedName(_maxFiles - 1));
            for (var i = _maxFiles - 2; i >= 1; i--)
            {
                var source = RotatedName(i);
                if (File.Exists(source))
                {
                    File.Move(source, RotatedName(i + 1), overwrite: true);
                }
            }

            File.Move(_path, RotatedName(1), overwrite: true);
            _stream = Open(FileMode.CreateNew);
        }

        _size = 0;
        Rotations++;
    }

    private string RotatedName(int index) => $"{_path}.{index}";

    // Readers (tail, shippers) may open the file while it is written.
    private FileStream Open(FileMode mode) => new(_path, mode, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
}
