using Microsoft.Extensions.Primitives;

namespace TagGateway.Scripts;

/// <summary>The few visitor headers a script fetch may carry (the upstream may vary on them), and the geolocation.</summary>
internal readonly record struct ScriptRequestHeaders(KeyValuePair<string, string>[] Headers, string? CountryRegion)
{
    public static ScriptRequestHeaders From(IHeaderDictionary headers, string? countryRegion)
    {
        var list = new List<KeyValuePair<string, string>>(ScriptFetcher.VaryCandidates.Length);
        foreach (var name in ScriptFetcher.VaryCandidates)
        {
            if (headers.TryGetValue(name, out var value) && value.Count > 0)
            {
                list.Add(new(name, value.ToString()));
            }
        }

        return new ScriptRequestHeaders(list.ToArray(), countryRegion);
    }

    /// <summary>The secondary cache key: the values of the headers the upstream varies on, in a fixed order.</summary>
    public static string VaryKey(IHeaderDictionary headers, string[] varyHeaders)
    {
        if (varyHeaders.Length == 0)
        {
            return string.Empty;
        }

        var values = new StringValues[varyHeaders.Length];
        for (var i = 0; i < varyHeaders.Length; i++)
        {
            values[i] = headers[varyHeaders[i]];
        }

        return string.Join('\n', values.Select(static v => v.ToString()));
    }

    public string VaryKey(string[] varyHeaders)
    {
        if (varyHeaders.Length == 0)
        {
            return string.Empty;
        }

        var values = new string[varyHeaders.Length];
        for (var i = 0; i < varyHeaders.Length; i++)
        {
            values[i] = string.Empty;
            foreach (var (name, value) in Headers)
            {
                if (string.Equals(name, varyHeaders[i], StringComparison.OrdinalIgnoreCase))
                {
                    values[i] = value;
                }
            }
        }

        return string.Join('\n', values);
    }
}
