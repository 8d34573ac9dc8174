using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace TagGateway.LiveView;

/// <summary>
/// When each CAPI destination last had events acknowledged, for the setup check: read off the module's own
/// <c>taggateway.capi.events.delivered</c> counter (its public surface), so the module keeps no clock for the host.
/// Started with the host, so deliveries before the page is first opened count.
/// </summary>
internal sealed class CapiDeliveryTimes : IDisposable
{
    private const string CapiMeter = "TagGateway.Capi";
    private const string DeliveredInstrument = "taggateway.capi.events.delivered";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _last = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public CapiDeliveryTimes(IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this host's meter (tests run several hosts in one process).
            if (instrument.Meter.Name == CapiMeter && instrument.Name == DeliveredInstrument && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((CapiDeliveryTimes)state!).Delivered(value, tags));
        _listener.Start();
    }

    /// <summary>The last acknowledgement per destination label; absent when none since start.</summary>
    public DateTimeOffset? LastDelivery(string destination) => _last.TryGetValue(destination, out var at) ? at : null;

    public void Dispose() => _listener.Dispose();

    private void Delivered(long count, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (count <= 0)
        {
            return;
        }

        foreach (var tag in tags)
        {
            if (tag is { Key: "destination", Value: string destination })
            {
                _last[destination] = _time.GetUtcNow();
            }
        }
    }
}
