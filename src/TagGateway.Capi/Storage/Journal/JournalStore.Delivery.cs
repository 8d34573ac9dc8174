using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>Delivery: taking ready events, putting them back, completing them, and waking the workers.</summary>
internal sealed partial class JournalStore
{
    public ValueTask<int> TakeReadyAsync(CapiDestination destination, long nowMs, int max, List<CapiEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var bit = destination.Bit();
        List<(long Seq, ArraySegment<byte> Json)> taken;
        lock (_gate)
        {
            ForgetWritten();
            var set = _pending[(int)destination];
            taken = new List<(long, ArraySegment<byte>)>(Math.Min(max, set.Count));
            List<Entry>? unreadable = null;
            foreach (var seq in set)
            {
                if (taken.Count == max)
                {
                    break;
                }

                var entry = _events[seq];
                if (entry.ReadyMs + _readyDelayMs[(int)destination] > nowMs)
                {
                    // New events become ready in sequence order; older (released or replayed) ones come first.
                    break;
                }

                // Only the bytes are read under the lock; parsing them happens outside it.
                if (TryReadJson(entry, out var json, out var error))
                {
                    taken.Add((seq, json));
                }
                else
                {
                    Log.Unreadable(_logger, seq, error);
                    (unreadable ??= []).Add(entry);
                }
            }

            foreach ((var seq, _) in taken)
            {
                set.Remove(seq);
                _events[seq].InFlight |= bit;
            }

            foreach (var entry in unreadable ?? [])
            {
                DeadLetterLocked(entry, destination, "journal record unreadable");
            }

            MaybeSweep(nowMs);
        }

        List<CapiEvent>? broken = null;
        foreach ((var seq, var json) in taken)
        {
            var e = Parse(json, out var error);
            if (e is null)
            {
                Log.Unreadable(_logger, seq, error);
                (broken ??= []).Add(new CapiEvent { Seq = seq });
                continue;
            }

            e.Seq = seq;
            batch.Add(e);
        }

        if (broken is not null)
        {
            lock (_gate)
            {
                foreach (var e in broken)
                {
                    if (_events.TryGetValue(e.Seq, out var entry))
                    {
                        entry.InFlight &= ~bit;
                        DeadLetterLocked(entry, destination, "journal record unreadable");
                    }
                }
            }
        }

        return new(taken.Count - (broken?.Count ?? 0));
    }

    public void Release(CapiDestination destination, IReadOnlyList<CapiEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var bit = destination.Bit();
        lock (_gate)
        {
            foreach (var e in events)
            {
                if (_events.TryGetValue(e.Seq, out var entry) && (entry.InFlight & bit) != 0)
                {
                    entry.InFlight &= ~bit;
                    if ((entry.Pending & bit) != 0)
                    {
                        _pending[(int)destination].Add(e.Seq);
                    }
                }
            }
        }
    }

    public async ValueTask CompleteAsync(CapiDestination destination, IReadOnlyList<Completion> completions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completions);
        var bit = destination.Bit();
        JournalOp? last = null;
        lock (_gate)
        {
            EnsureOpen();
            var now = NowMs();
            foreach (var completion in completions)
            {
                if (!_events.TryGetValue(completion.Seq, out var entry))
                {
                    continue;
                }

                entry.InFlight &= ~bit;
                entry.Pending &= ~bit;
                _pending[(int)destination].Remove(completion.Seq);
                if (completion.Kind == CompletionKind.DeadLettered)
                {
                    (entry.Dead ??= [])[destination] = new DeadInfo(now, completion.Error ?? string.Empty);
                    _deadLetters++;
                }
                else
                {
                    entry.Done |= bit;
                }

                last = AppendDone(entry, destination, completion.Kind, now, completion.Error);
                if (entry.IsComplete)
                {
                    Retire(entry);
                }
            }
        }

        if (last?.Durable is { } tcs)
        {
            await tcs.Task.WaitAsync(cancellationToken);
        }
    }

    public void SetReadyDelay(CapiDestination destination, TimeSpan delay) =>
        _readyDelayMs[(int)destination] = Math.Max(0, (long)delay.TotalMilliseconds);

    public async Task WaitForWorkAsync(CapiDestination destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The signal is read before the flag is tested: Signal sets the flag before it swaps the signal, so one that
        // lands in between is seen either as the flag or as the completion of the signal read here. Tested the other
        // way round, it was lost until the poll timeout (forever under a fake clock).
        var signal = Volatile.Read(ref _signals[(int)destination]).Task;
        if (Interlocked.Exchange(ref _signalled[(int)destination], 0) == 1)
        {
            return;
        }

        try
        {
            await signal.WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Nothing new: the caller polls for events whose merge window has passed.
        }

        Interlocked.Exchange(ref _signalled[(int)destination], 0);
    }

    public long? NextReadyMs(CapiDestination destination)
    {
        lock (_gate)
        {
            var set = _pending[(int)destination];
            return set.Count == 0 ? null : _events[set.Min].ReadyMs + _readyDelayMs[(int)destination];
        }
    }
}
