namespace TagGateway.Cookies.Issuing;

/// <summary>Reads name/value pairs out of a Cookie request header without allocating.</summary>
internal static class CookieHeader
{
    public static bool TryGet(ReadOnlySpan<char> header, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        foreach (var range in header.Split(';'))
        {
            var pair = header[range].Trim();
            var eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq].TrimEnd().SequenceEqual(name))
            {
                value = Unquote(pair[(eq + 1)..].Trim());
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

    public ref struct Enumerator(ReadOnlySpan<char> header)
    {
        private ReadOnlySpan<char> _rest = header;

        public ReadOnlySpan<char> Name { get; private set; }

        public ReadOnlySpan<char> Value { get; private set; }

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
                    Name = pair[..eq].TrimEnd();
                    Value = Unquote(pair[(eq + 1)..].Trim());
                    return true;
                }
            }

            return false;
        }
    }
}
