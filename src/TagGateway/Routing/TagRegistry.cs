using System.Collections.Frozen;
using TagGateway.Configuration;

namespace TagGateway.Routing;

/// <summary>The configured tag IDs as a frozen set, looked up by span so a request's <c>id</c> costs no string.</summary>
internal sealed class TagRegistry
{
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public TagRegistry(IEnumerable<string> tagIds)
    {
        ArgumentNullException.ThrowIfNull(tagIds);
        var ids = tagIds.ToArray();
        Primary = ids.Length > 0 ? ids[0] : throw new ArgumentException("At least one tag ID is required.", nameof(tagIds));
        var set = ids.ToFrozenSet(StringComparer.Ordinal);
        _lookup = set.GetAlternateLookup<ReadOnlySpan<char>>();
        All = set;
    }

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
}
