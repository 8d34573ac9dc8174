using System.Threading.Channels;

namespace TagGateway.Capi;

/// <summary>
/// Where the host hands forwarded GA4 hits: a bounded queue the CAPI pipeline drains. When no destination is
/// configured the module is off: the host checks <see cref="IsEnabled"/> and copies nothing.
/// </summary>
public sealed class CapiHitSink
{
    private readonly Channel<MeasurementHit> _queue;
    private long _dropped;
    private long _submitted;

    public CapiHitSink(bool enabled, int capacity = 10_000)
    {
        IsEnabled = enabled;
        _queue = Channel.CreateBounded<MeasurementHit>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Whether any destination is configured; when false the host neither copies bodies nor calls <see cref="Submit"/>.</summary>
    public bool IsEnabled { get; }

    /// <summary>Hits refused because the queue was full (the hit itself was already forwarded to Google).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Hits handed to the module (queued or dropped): one per forwarded GA4 hit while the module is on.</summary>
    public long Submitted => Interlocked.Read(ref _submitted);

    /// <summary>The pipeline's side of the queue.</summary>
    public ChannelReader<MeasurementHit> Reader => _queue.Reader;

    /// <summary>Queues a hit for mapping and fan-out; never blocks and never throws into the request path.</summary>
    public void Submit(MeasurementHit hit)
    {
        ArgumentNullException.ThrowIfNull(hit);
        Interlocked.Increment(ref _submitted);
        if (!IsEnabled || !_queue.Writer.TryWrite(hit))
        {
            Interlocked.Increment(ref _dropped);
        }
    }
}
