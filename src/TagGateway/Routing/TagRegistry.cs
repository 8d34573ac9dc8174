using System.Collections.Concurrent;
using System.Collections.Frozen;
using TagGateway.Configuration;

namespace TagGateway.Routing;

/// <summary>
/// The tag IDs whose scripts this gateway serves: the configured ones, looked up by span so a request's <c>id</c> costs
/// no string, and the destinations a configured Tag Manager container names (its Google tag loads
/// <c>gtag/js?id=G-…</c> and <c>gtag/destination?id=AW-…</c> through the same path, and nobody should have to list
/// every ID a container happens to load).
/// </summary>
internal sealed class TagRegistry
{
    /// <summary>More than any real container names; a bound so a container body cannot grow the set without end.</summary>
    public const int MaxLearned = 256;

    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly ConcurrentDictionary<string, byte> _learned = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte>.AlternateLookup<ReadOnlySpan<char>> _learnedLookup;
    private int _learnedCount;

    public TagRegistry(IEnumerable<string> tagIds)
    {
        ArgumentNullException.ThrowIfNull(tagIds);
        var ids = tagIds.ToArray();
        Primary = ids.Length > 0 ? ids[0] : throw new ArgumentException("At least one tag ID is required.", nameof(tagIds));
        var set = ids.ToFrozenSet(StringComparer.Ordinal);
        _lookup = set.GetAlternateLookup<ReadOnlySpan<char>>();
        _learnedLookup = _learned.GetAlternateLookup<ReadOnlySpan<char>>();
        All = set;
        HasContainers = ids.Any(static id => id.StartsWith("GTM-", StringComparison.Ordinal));
    }

    /// <summary>Whether a Tag Manager container is configured (only then are destination IDs learned).</summary>
    public bool HasContainers { get; }

    /// <summary>The IDs learned from configured containers so far.</summary>
    public int LearnedCount => Volatile.Read(ref _learnedCount);

    /// <summary>The tag whose fps.goog host serves the path (Cloudflare's <c>measurementId</c>).</summary>
    public string Primary { get; }

    public FrozenSet<string> All { get; }

    /// <summary>Whether the value (already checked for syntax or not) is one of ours.</summary>
    public bool TryGet(ReadOnlySpan<char> id, out string configured)
    {
        if (id.Length <= TagId.MaxLength && _lookup.TryGetValue(id, out var actual))
        {
            configured = actual;
            return true;
        }

        configured = string.Empty;
        return false;
    }

    /// <summary>Whether a script for <paramref name="id"/> may be served: configured, or named by a configured container.</summary>
    public bool IsServable(ReadOnlySpan<char> id) =>
        TryGet(id, out _) || (id.Length <= TagId.MaxLength && Volatile.Read(ref _learnedCount) > 0 && _learnedLookup.ContainsKey(id));

    /// <summary>
    /// Learns the Google tag and Ads destination IDs a configured container's body names (<c>"G-…"</c>,
    /// <c>"AW-…"</c>, <c>"GT-…"</c>, <c>"DC-…"</c> as quoted strings). Returns how many were new.
    /// </summary>
    public int LearnFromContainer(ReadOnlySpan<char> containerId, ReadOnlySpan<byte> body)
    {
        if (!containerId.StartsWith("GTM-", StringComparison.Ordinal) || !TryGet(containerId, out _))
        {
            return 0;
        }

        var added = 0;
        var rest = body;
        Span<char> candidate = stackalloc char[TagId.MaxLength];
        while (Volatile.Read(ref _learnedCount) < MaxLearned)
        {
            var quote = rest.IndexOfAny((byte)'"', (byte)'\'');
            if (quote < 0)
            {
                break;
            }

            var after = rest[(quote + 1)..];
            var end = after.IndexOfAny((byte)'"', (byte)'\'');
            if (end < 0)
            {
                break;
            }

            // Only a whole quoted string counts: "G-ABC123" names a destination, "xG-ABC123" does not.
            if (end is >= 6 and <= TagId.MaxLength && System.Text.Encoding.ASCII.TryGetChars(after[..end], candidate, out var length))
            {
                var id = candidate[..length];
                if (!id.StartsWith("GTM-", StringComparison.Ordinal) && TagId.IsValid(id) && !TryGet(id, out _) && _learned.TryAdd(id.ToString(), 0))
                {
                    Interlocked.Increment(ref _learnedCount);
                    added++;
                }
            }

            rest = after;
        }

        return added;
    }
}
