
namespace TagGateway.Cookies.PublicSuffix;

/// <summary>
/// The Public Suffix List's rules (normal, wildcard <c>*.</c> and exception <c>!</c>), ICANN and private sections
/// alike, as browsers apply them to cookie domains. Used to find the registrable domain a cookie may be set on;
/// a public suffix itself is never returned, so a cookie can never be scoped to <c>co.uk</c>.
/// </summary>
public sealed class PublicSuffixList
{
    // HashSet, not FrozenSet: ten thousand rules freeze in tens of milliseconds, which would sit on start-up time,
    // while a span lookup in either costs the same few nanoseconds per label.
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _rules;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _wildcards;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _exceptions;

    private PublicSuffixList(IEnumerable<string> lines)
    {
        var rules = new HashSet<string>(10_000, StringComparer.Ordinal);
        var wildcards = new HashSet<string>(StringComparer.Ordinal);
        var exceptions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in lines)
        {
            // A rule is the first whitespace-free token of a line; comments start with "//".
            var line = raw.AsSpan().Trim();
            var space = line.IndexOfAny(' ', '\t');
            if (space >= 0)
            {
                line = line[..space];
            }

            if (line.IsEmpty || line.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            var rule = line.ToString().ToLowerInvariant();
            if (rule.StartsWith('!'))
            {
                exceptions.Add(rule[1..]);
            }
            else if (rule.StartsWith("*.", StringComparison.Ordinal))
            {
                wildcards.Add(rule[2..]);
            }
            else
            {
                rules.Add(rule);
            }
        }

        RuleCount = rules.Count + wildcards.Count + exceptions.Count;
        _rules = rules.GetAlternateLookup<ReadOnlySpan<char>>();
        _wildcards = wildcards.GetAlternateLookup<ReadOnlySpan<char>>();
        _exceptions = exceptions.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int RuleCount { get; }

    /// <summary>The list embedded in the binary.</summary>
    public static PublicSuffixList Embedded()
    {
        using var stream = typeof(PublicSuffixList).Assembly.GetManifestResourceStream("TagGateway.Cookies.public_suffix_list.dat")
            ?? throw new InvalidOperationException("The embedded public suffix list is missing.");
        return FromStream(stream);
    }

    /// <summary>A list from a file (e.g. Debian's /usr/share/publicsuffix/public_suffix_list.dat, kept fresher by apt).</summary>
    public static PublicSuffixList FromFile(string path)
    {
        using var stream = File.OpenRead(path);
        return FromStream(stream);
    }

    public static PublicSuffixList FromLines(IEnumerable<string> lines) => new(lines);

    private static PublicSuffixList FromStream(Stream stream)
    {
        using var reader = new StreamReader(stream);
        var lines = new List<string>(16_384);
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return new PublicSuffixList(lines);
    }

    /// <summary>
    /// The registrable domain (public suffix plus one label) of a lower-case host name, or null when the host is
    /// itself a public suffix, a single label, or an IP address.
    /// </summary>
    public string? RegistrableDomain(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = host.AsSpan().TrimEnd('.');
        if (name.IsEmpty || name.Contains(':') || IsIPv4(name) || !name.Contains('.'))
        {
            return null;
        }

        var suffixLength = PublicSuffixLength(name);
        if (suffixLength >= name.Length)
        {
            return null;
        }

        // One more label to the left of the public suffix.
        var beforeSuffix = name[..(name.Length - suffixLength - 1)];
        var dot = beforeSuffix.LastIndexOf('.');
        var registrable = dot < 0 ? name : name[(dot + 1)..];
        return registrable.Length == host.Length ? host : registrable.ToString();
    }

    /// <summary>Length of the longest matching public suffix (the prevailing rule), "*" when nothing matches.</summary>
    private int PublicSuffixLength(ReadOnlySpan<char> name)
    {
        // Walk the suffixes from the longest: a.b.example.co.uk, b.example.co.uk, … uk.
        var start = 0;
        while (true)
        {
            var candidate = name[start..];
            if (_exceptions.Contains(candidate))
            {
                // An exception rule's suffix is the rule minus its leftmost label.
                var dot = candidate.IndexOf('.');
                return candidate.Length - dot - 1;
            }

            if (_rules.Contains(candidate))
            {
                return candidate.Length;
            }

            var next = candidate.IndexOf('.');
            if (next >= 0 && _wildcards.Contains(candidate[(next + 1)..]))
            {
                // "*.ck" matches "foo.ck": the whole candidate is the suffix.
                return candidate.Length;
            }

            if (next < 0)
            {
                // The default rule "*": the last label is the suffix.
                return candidate.Length;
            }

            start += next + 1;
        }
    }

    private static bool IsIPv4(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
        {
            if (c != '.' && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
