using System.Numerics;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Wire;

/// <summary>
/// Walks the raw name/value pairs of a form-encoded query or a batched body line (leading '?' allowed) without
/// decoding or allocating; chars for URLs, bytes for bodies. The one query walker of every project: consent signals,
/// the hit model, script loads and the CAPI decoder all read pairs through it, so they agree on what a pair is.
/// </summary>
public ref struct QueryPairs<TChar>
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

    /// <summary>Whether the pair had an '=' (<c>dr=</c>, an empty value) rather than a bare name.</summary>
    public bool HasValue { get; private set; }

    /// <summary>The whole pair as it stood (<c>name=value</c>).</summary>
    public ReadOnlySpan<TChar> Pair { get; private set; }

    public readonly QueryPairs<TChar> GetEnumerator() => this;

    /// <summary>The current pair (for <c>foreach</c>); read <see cref="Name"/> and <see cref="Value"/>.</summary>
    public readonly QueryPairs<TChar> Current => this;

    public bool MoveNext()
    {
        while (!_rest.IsEmpty)
        {
            var end = _rest.IndexOf(CodeUnit.From<TChar>('&'));
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

            var eq = pair.IndexOf(CodeUnit.From<TChar>('='));
            Name = eq < 0 ? pair : pair[..eq];
            Value = eq < 0 ? default : pair[(eq + 1)..];
            HasValue = eq >= 0;
            Pair = pair;
            return true;
        }

        return false;
    }

    /// <summary>Whether the pair's name is <paramref name="name"/>, verbatim.</summary>
    public readonly bool NameIs(ReadOnlySpan<char> name) => NameEquals(Name, name);

    internal static bool NameEquals(ReadOnlySpan<TChar> raw, ReadOnlySpan<char> name)
    {
        if (raw.Length != name.Length)
        {
            return false;
        }

        for (var i = 0; i < raw.Length; i++)
        {
            if (CodeUnit.ToInt(raw[i]) != name[i])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Look-ups over <see cref="QueryPairs{TChar}"/>.</summary>
public static class QueryPairs
{
    /// <summary>The raw (still encoded) value of the last occurrence of <paramref name="name"/>, matching the name verbatim.</summary>
    public static bool TryGetRawValue<TChar>(ReadOnlySpan<TChar> query, ReadOnlySpan<char> name, out ReadOnlySpan<TChar> value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        value = default;
        var found = false;
        var pairs = new QueryPairs<TChar>(query);
        while (pairs.MoveNext())
        {
            if (QueryPairs<TChar>.NameEquals(pairs.Name, name))
            {
                value = pairs.Value;
                found = true;
            }
        }

        return found;
    }

    /// <summary>The raw value of the first occurrence of <paramref name="name"/>, matching the name verbatim.</summary>
    public static bool TryGetFirstRawValue<TChar>(ReadOnlySpan<TChar> query, ReadOnlySpan<char> name, out ReadOnlySpan<TChar> value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        var pairs = new QueryPairs<TChar>(query);
        while (pairs.MoveNext())
        {
            if (QueryPairs<TChar>.NameEquals(pairs.Name, name))
            {
                value = pairs.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
