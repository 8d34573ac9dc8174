namespace TagGateway.Consent.Logging;

/// <summary>Where formatted audit lines go. Used by the single writer task only, so implementations need no locking.</summary>
internal interface IConsentLogSink : IAsyncDisposable
{
    /// <summary>Appends one complete line (newline included); may buffer.</summary>
    void WriteLine(ReadOnlySpan<byte> line);

    ValueTask FlushAsync(CancellationToken cancellationToken);
}

/// <summary>Lines to a stream (stdout in production), buffered and flushed after each drained batch.</summary>
internal sealed class StreamLogSink : IConsentLogSink
{
    private readonly BufferedStream _stream;

    public StreamLogSink(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = new BufferedStream(stream, 64 * 1024);
    }

    public void WriteLine(ReadOnlySpan<byte> line) => _stream.Write(line);

    public ValueTask FlushAsync(CancellationToken cancellationToken) => new(_stream.FlushAsync(cancellationToken));

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
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

        string? directory = Path.GetDirectoryName(_path);
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
            for (int i = _maxFiles - 2; i >= 1; i--)
            {
                string source = RotatedName(i);
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
