namespace TagGateway.Consent.Wire;

/// <summary>
/// Reads the name/value pairs of a Cookie request header without allocating: names and values trimmed, a quoted
/// value unquoted, pairs without a name skipped. The one cookie parser of every project (identifier cookies, the
/// Google cookie filter, CAPI's advertising cookies).
/// </summary>
public static class CookiePairs
{
    /// <summary>The first cookie named <paramref name="name"/>.</summary>
    public static bool TryGet(ReadOnlySpan<char> header, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        foreach (var pair in Enumerate(header))
        {
            if (pair.Name.SequenceEqual(name))
            {
                value = pair.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Enumerates (name, value) pairs in order.</summary>
    public static Enumerator Enumerate(ReadOnlySpan<char> header) => new(header);

    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;

    /// <summary>A foreach-able walk over a Cookie header; each step exposes <see cref="Name"/>, <see cref="Value"/> and the whole <see cref="Pair"/>.</summary>
    public ref struct Enumerator(ReadOnlySpan<char> header)
    {
        private ReadOnlySpan<char> _rest = header;

        public ReadOnlySpan<char> Name { get; private set; }

        public ReadOnlySpan<char> Value { get; private set; }

        /// <summary>Non-empty segments passed over so far because they had no name (a bare token, <c>=x</c>).</summary>
        public int Skipped { get; private set; }

        /// <summary>The pair as it stood in the header, trimmed (<c>name=value</c>).</summary>
        public ReadOnlySpan<char> Pair { get; private set; }

        public readonly Enumerator GetEnumerator() => this;

        public readonly Enumerator Current => this;

        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                var semicolon = _rest.IndexOf(';');
                var pair = (semicolon < 0 ? _rest : _rest[..semicolon]).Trim();
                _rest = semicolon < 0 ? [] : _rest[(semicolon + 1)..];
                var eq = pair.IndexOf('=');
                if (eq > 0)
                {
                    Pair = pair;
                    Name = pair[..eq].TrimEnd();
                    Value = Unquote(pair[(eq + 1)..].Trim());
                    return true;
                }

                if (!pair.IsEmpty)
                {
                    Skipped++;
                }
            }

            return false;
        }
    }
}
