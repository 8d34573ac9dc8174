using System.Numerics;

namespace TagGateway.Consent.Signals;

/// <summary>Walks the raw name/value pairs of a form-encoded query (leading '?' allowed) without decoding or allocating.</summary>
internal ref struct QueryPairs<TChar>
    where TChar : unmanaged, IBinaryInteger<TChar>
{
    private ReadOnlySpan<TChar> _rest;

    public QueryPairs(ReadOnlySpan<TChar> query)
    {
        _rest = !query.IsEmpty && CodeUnit.ToInt(query[0]) == '?' ? query[1..] : query;
        Name = default;
        Value = default;
    }

    public ReadOnlySpan<TChar> Name { get; private set; }

    public ReadOnlySpan<TChar> Value { get; private set; }

    public bool MoveNext()
    {
        while (!_rest.IsEmpty)
        {
            int end = _rest.IndexOf(CodeUnit.From<TChar>('&'));
            ReadOnlySpan<TChar> pair;
            if (end < 0)
            {
                pair = _rest;
                _rest = default;
            }
            else
            {
                pair = _rest[..end];
                _rest = _rest[(end + 1)..];
            }

            if (pair.IsEmpty)
            {
                continue;
            }

            int eq = pair.IndexOf(CodeUnit.From<TChar>('='));
            Name = eq < 0 ? pair : pair[..eq];
            Value = eq < 0 ? default : pair[(eq + 1)..];
            return true;
        }

        return false;
    }

    /// <summary>The raw (still encoded) value of the last occurrence of <paramref name="name"/>, matching the name verbatim.</summary>
    public static bool TryGetRawValue(ReadOnlySpan<TChar> query, ReadOnlySpan<char> name, out ReadOnlySpan<TChar> value)
    {
        value = default;
        bool found = false;
        var pairs = new QueryPairs<TChar>(query);
        while (pairs.MoveNext())
        {
            if (NameEquals(pairs.Name, name))
            {
                value = pairs.Value;
                found = true;
            }
        }

        return found;
    }

    private static bool NameEquals(ReadOnlySpan<TChar> raw, ReadOnlySpan<char> name)
    {
        if (raw.Length != name.Length)
        {
            return false;
        }

        for (int i = 0; i < raw.Length; i++)
        {
            if (CodeUnit.ToInt(raw[i]) != name[i])
            {
                return false;
            }
        }

        return true;
    }
}
