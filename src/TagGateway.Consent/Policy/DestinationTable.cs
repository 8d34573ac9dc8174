using System.Collections.Frozen;

namespace TagGateway.Consent.Policy;

/// <summary>The matrix rows of one configuration (built-ins first, in enum order, then configured ones) with a name index.</summary>
internal sealed class DestinationTable
{
    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _byName;

    public DestinationTable(DestinationRule[] rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.Length > ConsentMatrix.MaxDestinations)
        {
            throw new ArgumentException($"At most {ConsentMatrix.MaxDestinations} destinations are supported.", nameof(rules));
        }

        Rules = rules;
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < rules.Length; i++)
        {
            index.Add(rules[i].Name, i);
        }

        _byName = index.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
    }

    // An array, not an interface: the decision loop indexes it per event.
    public DestinationRule[] Rules { get; }

    public int Count => Rules.Length;

    public bool TryGetIndex(ReadOnlySpan<char> name, out int index) => _byName.TryGetValue(name, out index);
}
