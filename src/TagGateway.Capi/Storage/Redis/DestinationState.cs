using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>Per-destination state held in process: entries read from the stream and not yet sent, and those in flight.</summary>
internal sealed partial class RedisCapiStore
{
    /// <summary>A stream entry this consumer holds: read or claimed, waiting for its merge window or a retry, or in flight.</summary>
    internal sealed class Held(string id, long seq, long readyMs)
    {
        public string Id { get; } = id;

        public long Seq { get; } = seq;

        public long ReadyMs { get; } = readyMs;

        /// <summary>Set once taken, so a dead letter can name the event.</summary>
        public CapiEvent? Event { get; set; }
    }

    private sealed class DestinationState(CapiDestination destination, RedisKey stream)
    {
        private readonly Lock _gate = new();
        private readonly List<Held> _held = [];
        private readonly HashSet<string> _ids = [];

        public int Signalled;

        public TaskCompletionSource SignalSource = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CapiDestination Destination { get; } = destination;

        public RedisKey Stream { get; } = stream;

        public int HeldCount
        {
            get
            {
                lock (_gate)
                {
                    return _held.Count;
                }
            }
        }

        public Dictionary<long, Held> InFlight { get; } = [];

        public long LastClaimMs { get; set; }

        public RedisValue ClaimCursor { get; set; } = "0-0";

        public int Hold(StreamEntry[] entries)
        {
            var added = 0;
            lock (_gate)
            {
                foreach (var entry in entries)
                {
                    if (entry.IsNull || !long.TryParse((string?)entry["s"], CultureInfo.InvariantCulture, out var seq))
                    {
                        continue;
                    }

                    string id = entry.Id!;
                    if (_ids.Contains(id) || InFlightContains(id))
                    {
                        // Claimed back from our own pending list while we still hold or send it.
                        continue;
                    }

                    _ = long.TryParse((string?)entry["r"], CultureInfo.InvariantCulture, out var ready);
                    _ids.Add(id);
                    _held.Add(new Held(id, seq, ready));
                    added++;
                }
            }

            return added;
        }

        public void Requeue(Held held)
        {
            lock (_gate)
            {
                if (_ids.Add(held.Id))
                {
                    _held.Insert(0, held);
                }
            }
        }

        /// <summary>Removes and returns the ready entries (oldest first); the take script decides which are still to send.</summary>
        public List<Held> TakeReady(long now, int max)
        {
            var ready = new List<Held>();
            lock (_gate)
            {
                for (var i = 0; i < _held.Count && ready.Count < max; i++)
                {
                    if (_held[i].ReadyMs <= now)
                    {
                        ready.Add(_held[i]);
                    }
                }

                foreach (var h in ready)
                {
                    _held.Remove(h);
                    _ids.Remove(h.Id);
                }
            }

            return ready;
        }

        public long? NextReadyMs()
        {
            lock (_gate)
            {
                return _held.Count == 0 ? null : _held.Min(static h => h.ReadyMs);
            }
        }

        public void Signal()
        {
            Volatile.Write(ref Signalled, 1);
            Interlocked.Exchange(ref SignalSource, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        private bool InFlightContains(string id) => InFlight.Values.Any(h => h.Id == id);
    }
}
