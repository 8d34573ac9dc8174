namespace TagGateway.Scripts;

/// <summary>The Cache-Control directives a shared script cache acts on (RFC 9111, RFC 5861).</summary>
internal readonly record struct CacheControl(
    TimeSpan? MaxAge,
    TimeSpan? SharedMaxAge,
    TimeSpan? StaleWhileRevalidate,
    TimeSpan? StaleIfError,
    bool NoStore,
    bool NoCache,
    bool MustRevalidate)
{
    public static CacheControl Parse(ReadOnlySpan<char> header)
    {
        TimeSpan? maxAge = null, sMaxAge = null, swr = null, sie = null;
        bool noStore = false, noCache = false, mustRevalidate = false;
        foreach (var range in header.Split(','))
        {
            var directive = header[range].Trim();
            var eq = directive.IndexOf('=');
            var name = (eq < 0 ? directive : directive[..eq]).Trim();
            var value = eq < 0 ? [] : directive[(eq + 1)..].Trim().Trim('"');

            if (name.Equals("no-store", StringComparison.OrdinalIgnoreCase))
            {
                noStore = true;
            }
            else if (name.Equals("no-cache", StringComparison.OrdinalIgnoreCase))
            {
                noCache = true;
            }
            else if (name.Equals("must-revalidate", StringComparison.OrdinalIgnoreCase) || name.Equals("proxy-revalidate", StringComparison.OrdinalIgnoreCase))
            {
                mustRevalidate = true;
            }
            else if (name.Equals("max-age", StringComparison.OrdinalIgnoreCase))
            {
                maxAge = Seconds(value);
            }
            else if (name.Equals("s-maxage", StringComparison.OrdinalIgnoreCase))
            {
                sMaxAge = Seconds(value);
            }
            else if (name.Equals("stale-while-revalidate", StringComparison.OrdinalIgnoreCase))
            {
                swr = Seconds(value);
            }
            else if (name.Equals("stale-if-error", StringComparison.OrdinalIgnoreCase))
            {
                sie = Seconds(value);
            }
        }

        return new CacheControl(maxAge, sMaxAge, swr, sie, noStore, noCache, mustRevalidate);
    }

    private static TimeSpan? Seconds(ReadOnlySpan<char> value) =>
        long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue))
            : null;
}
