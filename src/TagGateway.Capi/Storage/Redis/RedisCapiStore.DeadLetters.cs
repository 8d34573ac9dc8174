using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>Dead letters: listing, replaying and expiring them.</summary>
internal sealed partial class RedisCapiStore
{
    public async ValueTask<IReadOnlyList<DeadLetter>> DeadLettersAsync(CapiDestination? destination, int limit, CancellationToken cancellationToken)
    {
        var list = new List<DeadLetter>();
        foreach (var entry in await Db.HashGetAllAsync(DeadLetterKey))
        {
            if (DeadLetterField.TryParse(entry.Name!, out var d, out var seq) && (destination is null || destination == d)
                && DeadLetterValue.TryParse(entry.Value!, out var value))
            {
                list.Add(new DeadLetter(seq, d, value.Name, value.EventId, value.TimeMs, value.FailedMs, value.Error));
            }
        }

        list.Sort(static (a, b) => a.Seq != b.Seq ? a.Seq.CompareTo(b.Seq) : a.Destination.CompareTo(b.Destination));
        return list.Count > limit ? list[..limit] : list;
    }

    public async ValueTask<int> ReplayAsync(long seq, CapiDestination? destination, CancellationToken cancellationToken)
    {
        var replayed = 0;
        var now = NowMs();
        foreach (var d in CapiDestinations.All)
        {
            if (destination is not null && destination != d)
            {
                continue;
            }

            var r = await Db.ScriptEvaluateAsync(RedisScripts.Replay, [DeadLetterKey, StreamKey(d)], [DeadLetterField.Of(d, seq), seq, now]);
            if ((int)r == 1)
            {
                replayed++;
                _states[(int)d].Signal();
            }
        }

        return replayed;
    }

    private async Task ExpireDeadLettersAsync(long now)
    {
        var retention = (long)_capi.Store.DeadLetterRetention.TotalMilliseconds;
        foreach (var entry in await Db.HashGetAllAsync(DeadLetterKey))
        {
            if (DeadLetterValue.TryParse(entry.Value!, out var value) && now - value.FailedMs > retention
                && DeadLetterField.TryParse(entry.Name!, out var d, out var seq))
            {
                await Db.ScriptEvaluateAsync(RedisScripts.Expire, [DeadLetterKey, EventKey(seq), _prefix + "events"], [entry.Name]);
                _metrics?.Dropped(d, "dead_letter_expired");
            }
        }
    }
}
