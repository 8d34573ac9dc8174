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
        foreach (HashEntry entry in await Db.HashGetAllAsync(DeadLetterKey).ConfigureAwait(false))
        {
            if (DeadLetterField.TryParse(entry.Name!, out CapiDestination d, out long seq) && (destination is null || destination == d)
                && DeadLetterValue.TryParse(entry.Value!, out DeadLetterValue value))
            {
                list.Add(new DeadLetter(seq, d, value.Name, value.EventId, value.TimeMs, value.FailedMs, value.Error));
            }
        }

        list.Sort(static (a, b) => a.Seq != b.Seq ? a.Seq.CompareTo(b.Seq) : a.Destination.CompareTo(b.Destination));
        return list.Count > limit ? list[..limit] : list;
    }

    public async ValueTask<int> ReplayAsync(long seq, CapiDestination? destination, CancellationToken cancellationToken)
    {
        int replayed = 0;
        long now = NowMs();
        foreach (CapiDestination d in CapiDestinations.All)
        {
            if (destination is not null && destination != d)
            {
                continue;
            }

            RedisResult r = await Db.ScriptEvaluateAsync(RedisScripts.Replay, [DeadLetterKey, StreamKey(d)], [DeadLetterField.Of(d, seq), seq, now]).ConfigureAwait(false);
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
        long retention = (long)_capi.Store.DeadLetterRetention.TotalMilliseconds;
        foreach (HashEntry entry in await Db.HashGetAllAsync(DeadLetterKey).ConfigureAwait(false))
        {
            if (DeadLetterValue.TryParse(entry.Value!, out DeadLetterValue value) && now - value.FailedMs > retention
                && DeadLetterField.TryParse(entry.Name!, out CapiDestination d, out long seq))
            {
                await Db.ScriptEvaluateAsync(RedisScripts.Expire, [DeadLetterKey, EventKey(seq), _prefix + "events"], [entry.Name]).ConfigureAwait(false);
                _metrics?.Dropped(d, "dead_letter_expired");
            }
        }
    }
}
