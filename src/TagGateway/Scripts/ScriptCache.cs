using System.Collections.Concurrent;
using TagGateway.Configuration;

namespace TagGateway.Scripts;

/// <summary>
/// Script variants in memory, keyed by what makes the body differ: the path and query under the measurement
/// path and the geolocation sent upstream (primary key), then the values of the headers the upstream varies on.
/// Bounded by entry count and bytes, least recently used first. Concurrent misses for one key share one fetch.
/// </summary>
internal sealed class ScriptCache
{
    private readonly ConcurrentDictionary<string, ScriptSlot> _slots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ScriptSlot>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly ConcurrentDictionary<string, Lazy<Task<FetchResult>>> _inflight = new(StringComparer.Ordinal);
    private readonly Lock _evictionLock = new();
    private readonly long _maxBytes;
    private readonly int _maxEntries;
    private long _bytes;
    private int _entries;

    public ScriptCache(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maxBytes = options.Scripts.MaxCacheBytes;
        _maxEntries = options.Scripts.MaxEntries;
        _bySpan = _slots.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Entries => Volatile.Read(ref _entries);

    /// <summary>The slot for a primary key, without building a string for it.</summary>
    public ScriptSlot? Find(ReadOnlySpan<char> primaryKey) => _bySpan.TryGetValue(primaryKey, out var slot) ? slot : null;

    /// <summary>Runs <paramref name="fetch"/> once for all concurrent callers with the same key.</summary>
    public Task<FetchResult> FetchOnceAsync(string fullKey, Func<Task<FetchResult>> fetch)
    {
        var lazy = _inflight.GetOrAdd(
            fullKey,
            static (key, state) => new Lazy<Task<FetchResult>>(() => state.Cache.RunThenForgetAsync(key, state.Fetch)),
            (Cache: this, Fetch: fetch));
        return lazy.Value;
    }

    private async Task<FetchResult> RunThenForgetAsync(string key, Func<Task<FetchResult>> fetch)
    {
        try
        {
            // The fetch stores its result before this returns, so a caller arriving later finds it in the cache.
            return await fetch();
        }
        finally
        {
            _inflight.TryRemove(key, out _);
        }
    }

    /// <summary>Stores a variant, replacing the previous one with the same keys, then evicts to the bounds.</summary>
    public void Store(string primaryKey, string varyKey, CachedScript script)
    {
        var slot = _slots.GetOrAdd(primaryKey, static key => new ScriptSlot(key));
        lock (slot)
        {
            if (!slot.VaryHeaders.AsSpan().SequenceEqual(script.VaryHeaders))
            {
                // The upstream changed what it varies on: old variants were keyed differently.
                foreach (var old in slot.Variants.Values)
                {
                    Account(-old.SizeBytes, -1);
                }

                slot.Variants.Clear();
                slot.VaryHeaders = script.VaryHeaders;
            }

            if (slot.Variants.TryGetValue(varyKey, out var replaced))
            {
                Account(-replaced.SizeBytes, -1);
            }

            slot.Variants[varyKey] = script;
            Account(script.SizeBytes, 1);
        }

        EvictIfNeeded();
    }

    /// <summary>
    /// Swaps in the best-compressed bodies of a variant, if that variant still holds the same content (a refresh
    /// may have replaced it meanwhile; its freshness is kept either way).
    /// </summary>
    public bool ReplaceBodies(string primaryKey, string varyKey, CachedScript best)
    {
        if (!_slots.TryGetValue(primaryKey, out var slot))
        {
            return false;
        }

        lock (slot)
        {
            if (!slot.Variants.TryGetValue(varyKey, out var current) || current.ETagBase != best.ETagBase || current.Uncompressed is null)
            {
                return false;
            }

            var replaced = current.WithBodiesOf(best);
            slot.Variants[varyKey] = replaced;
            Account(replaced.SizeBytes - current.SizeBytes, 0);
            return true;
        }
    }

    private void Account(long bytes, int entries)
    {
        Interlocked.Add(ref _bytes, bytes);
        Interlocked.Add(ref _entries, entries);
    }

    private void EvictIfNeeded()
    {
        if (Bytes <= _maxBytes && Entries <= _maxEntries)
        {
            return;
        }

        lock (_evictionLock)
        {
            while (Bytes > _maxBytes || Entries > _maxEntries)
            {
                ScriptSlot? oldestSlot = null;
                string? oldestKey = null;
                var oldestTicks = long.MaxValue;
                foreach (var slot in _slots.Values)
                {
                    foreach (var (key, variant) in slot.Variants)
                    {
                        var ticks = Volatile.Read(ref variant.LastAccessTicks);
                        if (ticks < oldestTicks)
                        {
                            (oldestSlot, oldestKey, oldestTicks) = (slot, key, ticks);
                        }
                    }
                }

                if (oldestSlot is null)
                {
                    return;
                }

                lock (oldestSlot)
                {
                    if (oldestSlot.Variants.TryRemove(oldestKey!, out var removed))
                    {
                        Account(-removed.SizeBytes, -1);
                    }

                    if (oldestSlot.Variants.IsEmpty)
                    {
                        _slots.TryRemove(new KeyValuePair<string, ScriptSlot>(oldestSlot.Key, oldestSlot));
                    }
                }
            }
        }
    }
}

/// <summary>All variants of one primary key, and the headers the upstream last said they vary on.</summary>
internal sealed class ScriptSlot(string key)
{
    public string Key { get; } = key;

    public string[] VaryHeaders { get; set; } = [];

    public ConcurrentDictionary<string, CachedScript> Variants { get; } = new(StringComparer.Ordinal);
}
