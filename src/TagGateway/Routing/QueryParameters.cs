namespace TagGateway.Routing;

/// <summary>Reads parameters out of a raw query string without allocating or decoding.</summary>
internal static class QueryParameters
{
    /// <summary>Finds the first <paramref name="name"/> parameter; the value is returned still percent-encoded.</summary>
    public static bool TryGetValue(ReadOnlySpan<char> query, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        if (!query.IsEmpty && query[0] == '?')
        {
            query = query[1..];
        }

        while (!query.IsEmpty)
        {
            var amp = query.IndexOf('&');
            var pair = amp < 0 ? query : query[..amp];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (key.SequenceEqual(name))
            {
                value = eq < 0 ? [] : pair[(eq + 1)..];
                return true;
            }

            if (amp < 0)
            {
                break;
            }

            query = query[(amp + 1)..];
        }

        value = default;
        return false;
    }

    /// <summary>The query without any parameter named <paramref name="name"/>, in the original order and encoding.</summary>
    public static string Without(ReadOnlySpan<char> query, ReadOnlySpan<char> name)
    {
        var kept = new System.Text.StringBuilder(query.Length);
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            var eq = pair.IndexOf('=');
            if ((eq < 0 ? pair : pair[..eq]).SequenceEqual(name) || pair.IsEmpty)
            {
                continue;
            }

            if (kept.Length > 0)
            {
                kept.Append('&');
            }

            kept.Append(pair);
        }

        return kept.ToString();
    }

    /// <summary>Whether any parameter has one of the given names.</summary>
    public static bool ContainsAny(ReadOnlySpan<char> query, ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            if (TryGetValue(query, name, out _))
            {
                return true;
            }
        }

        return false;
    }
}
