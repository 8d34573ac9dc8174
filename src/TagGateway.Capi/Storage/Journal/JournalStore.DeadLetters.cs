using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>Dead letters: listing, replaying and expiring them.</summary>
internal sealed partial class JournalStore
{
    public ValueTask<IReadOnlyList<DeadLetter>> DeadLettersAsync(CapiDestination? destination, int limit, CancellationToken cancellationToken)
    {
        var found = new List<(Entry Entry, CapiDestination Destination, DeadInfo Info)>();
        var list = new List<DeadLetter>();
        lock (_gate)
        {
            foreach (var entry in _events.Values)
            {
                if (entry.Dead is null)
                {
                    continue;
                }

                foreach ((var d, var info) in entry.Dead)
                {
                    if (destination is null || destination == d)
                    {
                        found.Add((entry, d, info));
                    }
                }
            }

            found.Sort(static (a, b) => a.Entry.Seq != b.Entry.Seq ? a.Entry.Seq.CompareTo(b.Entry.Seq) : a.Destination.CompareTo(b.Destination));
            if (found.Count > limit)
            {
                found.RemoveRange(limit, found.Count - limit);
            }

            // Names and ids come from the journal: only the listed ones are read.
            Entry? previous = null;
            CapiEvent? e = null;
            foreach ((var entry, var d, var info) in found)
            {
                if (!ReferenceEquals(entry, previous))
                {
                    e = LoadEvent(entry);
                    previous = entry;
                }

                list.Add(new DeadLetter(entry.Seq, d, e?.Name ?? "?", e?.EventId ?? "?", e?.TimeMs ?? 0, info.FailedMs, info.Error));
            }
        }

        return new(list);
    }

    public async ValueTask<int> ReplayAsync(long seq, CapiDestination? destination, CancellationToken cancellationToken)
    {
        JournalOp? last = null;
        var replayed = 0;
        var mask = 0;
        lock (_gate)
        {
            EnsureOpen();
            if (!_events.TryGetValue(seq, out var entry) || entry.Dead is null)
            {
                return 0;
            }

            var now = NowMs();
            foreach (var d in entry.Dead.Keys.ToList())
            {
                if (destination is not null && destination != d)
                {
                    continue;
                }

                entry.Dead.Remove(d);
                _deadLetters--;
                entry.Pending |= d.Bit();
                entry.ReadyMs = Math.Min(entry.ReadyMs, now);
                _pending[(int)d].Add(seq);
                last = AppendDone(entry, d, CompletionKind.Replayed, now, null);
                mask |= d.Bit();
                replayed++;
            }

            if (entry.Dead.Count == 0)
            {
                entry.Dead = null;
            }
        }

        SignalMask(mask);
        if (last?.Durable is { } tcs)
        {
            await tcs.Task.WaitAsync(cancellationToken);
        }

        return replayed;
    }

    private void ExpireDeadLetters(long now)
    {
        if (_deadLetters == 0)
        {
            return;
        }

        foreach (var entry in _events.Values.Where(e => e.Dead is not null).ToList())
        {
            var dead = entry.Dead!;
            foreach ((var d, var info) in dead.ToList())
            {
                if (now - info.FailedMs > _deadLetterRetentionMs)
                {
                    dead.Remove(d);
                    _deadLetters--;
                    entry.Done |= d.Bit();
                    AppendDone(entry, d, CompletionKind.Dropped, now, "dead-letter retention elapsed");
                    _metrics?.Dropped(d, "dead_letter_expired");
                }
            }

            if (dead.Count == 0)
            {
                entry.Dead = null;
            }

            if (entry.IsComplete)
            {
                Retire(entry);
            }
        }
    }

    /// <summary>An event whose record cannot be read is dead-lettered, never silently dropped. Under the lock.</summary>
    private void DeadLetterLocked(Entry entry, CapiDestination destination, string error)
    {
        var now = NowMs();
        var bit = destination.Bit();
        entry.Pending &= ~bit;
        _pending[(int)destination].Remove(entry.Seq);
        if (entry.Dead?.ContainsKey(destination) != true)
        {
            _deadLetters++;
        }

        (entry.Dead ??= [])[destination] = new DeadInfo(now, error);
        AppendDone(entry, destination, CompletionKind.DeadLettered, now, error);
        _metrics?.DeadLettered(destination, 1);
    }
}
