using System.Diagnostics.Metrics;
using System.Globalization;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>The dead-letter hash's field: "{destination}:{seq}".</summary>
internal static class DeadLetterField
{
    public static string Of(CapiDestination destination, long seq) =>
        destination.Name() + ":" + seq.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string field, out CapiDestination destination, out long seq)
    {
        seq = 0;
        destination = default;
        var colon = field.LastIndexOf(':');
        return colon > 0
            && CapiDestinations.TryParse(field.AsSpan(0, colon), out destination)
            && long.TryParse(field.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out seq);
    }
}

/// <summary>The dead-letter hash's value: failed ms, event time ms, event name, event id and error, newline-separated (the error last, it may hold anything).</summary>
internal readonly record struct DeadLetterValue(long FailedMs, long TimeMs, string Name, string EventId, string Error)
{
    public static string Format(string name, string eventId, long timeMs, long failedMs, string error) =>
        string.Join('\n', failedMs.ToString(CultureInfo.InvariantCulture), timeMs.ToString(CultureInfo.InvariantCulture), Clean(name), Clean(eventId), error);

    public static bool TryParse(string value, out DeadLetterValue parsed)
    {
        parsed = default;
        var parts = value.Split('\n', 5);
        if (parts.Length != 5
            || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var failed)
            || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var time))
        {
            return false;
        }

        parsed = new DeadLetterValue(failed, time, parts[2], parts[3], parts[4]);
        return true;
    }

    private static string Clean(string value) => value.Replace('\n', ' ');
}

/// <summary>The Redis store's instruments, on the module's meter "TagGateway.Capi".</summary>
internal sealed class RedisStoreMetrics
{
    private readonly Counter<long> _spilled;
    private readonly Counter<long> _claimed;
    private readonly Counter<long> _uncertain;

    public RedisStoreMetrics(Meter meter, RedisCapiStore store)
    {
        _spilled = meter.CreateCounter<long>("taggateway.capi.store.spilled", "{event}", "Events accepted into the local spill while Redis was unreachable.");
        _claimed = meter.CreateCounter<long>("taggateway.capi.store.claimed", "{event}", "Pending entries claimed from another consumer (a dead or slow instance), by destination.");
        _uncertain = meter.CreateCounter<long>("taggateway.capi.store.uncertain", "{event}", "Events a dead instance was sending when it stopped, dead-lettered as uncertain, by destination.");
        meter.CreateObservableGauge("taggateway.capi.store.spill_bytes", () => store.SpillBytes, "By", "Bytes in the local spill waiting for Redis.");
        meter.CreateObservableGauge("taggateway.capi.store.redis_reachable", () => store.Healthy ? 1 : 0, "{bool}", "1 while Redis answers, 0 during an outage.");
    }

    public void Spilled(int count) => _spilled.Add(count);

    public void Claimed(CapiDestination d, int count) => _claimed.Add(count, new KeyValuePair<string, object?>("destination", d.Name()));

    public void Uncertain(CapiDestination d, int count) => _uncertain.Add(count, new KeyValuePair<string, object?>("destination", d.Name()));
}
