using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>The local spill: accepting there while Redis is unreachable, and draining it when Redis returns.</summary>
internal sealed partial class RedisCapiStore
{
    /// <summary>Drains the spill now (tests; the background loop does it as soon as Redis answers).</summary>
    internal Task DrainSpillAsync() => DrainAsync(CancellationToken.None);

    private AcceptStatus[] Spill(IReadOnlyList<CapiEvent> events)
    {
        var statuses = new AcceptStatus[events.Count];
        var spilled = new List<CapiEvent>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Destinations == 0)
            {
                statuses[i] = AcceptStatus.NoDestination;
            }
            else
            {
                spilled.Add(events[i]);
            }
        }

        bool ok;
        try
        {
            ok = spilled.Count == 0 || _spill.TryAppend(spilled);
        }
        catch (IOException ex)
        {
            Log.SpillFailed(_logger, ex);
            ok = false;
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Destinations != 0)
            {
                statuses[i] = ok ? AcceptStatus.Accepted : AcceptStatus.StoreFull;
            }
        }

        if (ok)
        {
            _redisMetrics?.Spilled(spilled.Count);
        }
        else
        {
            Log.SpillFull(_logger, _spill.Bytes, _options.SpillMaxBytes);
        }

        return statuses;
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_spill.IsEmpty || !await _drainGate.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            var drained = 0;
            foreach (var path in _spill.Seal())
            {
                var events = RedisSpill.Read(path);
                for (var start = 0; start < events.Count; start += 200)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await AcceptInRedisAsync(events.GetRange(start, Math.Min(200, events.Count - start)));
                }

                _spill.Delete(path);
                drained += events.Count;
            }

            if (drained > 0)
            {
                Log.Drained(_logger, drained);
            }
        }
        finally
        {
            _drainGate.Release();
        }
    }
}
