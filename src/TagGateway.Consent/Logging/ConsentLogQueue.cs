using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Configuration;

namespace TagGateway.Consent.Logging;

/// <summary>
/// The bounded hand-off between request threads and the log writer. Writers use TryWrite only, so a slow disk or a
/// blocked stdout can never hold up a request: when the queue is full the entry is dropped and counted.
/// </summary>
internal sealed class ConsentLogQueue
{
    private readonly Channel<ConsentLogEntry> _channel;
    private long _droppedSinceReport;

    public ConsentLogQueue(IOptions<ConsentOptions> options)
        : this(options?.Value.Log.QueueCapacity ?? throw new ArgumentNullException(nameof(options)))
    {
    }

    internal ConsentLogQueue(int capacity)
    {
        _channel = Channel.CreateBounded<ConsentLogEntry>(new BoundedChannelOptions(capacity)
        {
            // Wait (not a Drop* mode) so TryWrite reports a full queue; it never actually waits.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    public ChannelReader<ConsentLogEntry> Reader => _channel.Reader;

    public bool TryWrite(in ConsentLogEntry entry)
    {
        if (_channel.Writer.TryWrite(entry))
        {
            return true;
        }

        Interlocked.Increment(ref _droppedSinceReport);
        return false;
    }

    /// <summary>Drops since the last call; the writer reports them so the request path never logs.</summary>
    public long TakeDroppedCount() => Interlocked.Exchange(ref _droppedSinceReport, 0);
}
