using System.Buffers;

namespace TagGateway.Routing;

/// <summary>Why a request target was refused before anything else looked at it.</summary>
internal enum TargetVerdict
{
    Ok,

    /// <summary>Not under the measurement path (the site's own pages are not ours to serve).</summary>
    NotMeasurementPath,

    /// <summary>Absolute-form or asterisk-form target: a proxy request, never honoured.</summary>
    NotOriginForm,

    /// <summary>
    /// Dot segments in any disguise (encoded, double encoded, overlong UTF-8, fullwidth, trailing dots, "..;"),
    /// encoded delimiters, backslashes, empty segments, controls, non-ASCII or bad escapes.
    /// </summary>
    Traversal,
}

/// <summary>
/// The raw request target split into the part under the measurement path and the query. Checks run on the raw
/// bytes the client sent, before Kestrel's normalisation could turn <c>/metrics/../x</c> into <c>/x</c>.
/// </summary>
internal readonly ref struct RequestTarget
{
    private static readonly SearchValues<char> Forbidden = SearchValues.Create("\\\0\r\n\t ");
    private static readonly SearchValues<char> Hex = SearchValues.Create("0123456789abcdefABCDEF");

    // RFC 3986 "pchar" plus "/": unreserved, sub-delims, ":", "@" and "%" (escapes are checked one by one).
    private static readonly SearchValues<char> PathChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%");

    // Decoded, these are delimiters a second parser would act on (see IsCleanPath).
    private static readonly SearchValues<char> EscapedDelimiters = SearchValues.Create("./\\;?# %");

    /// <summary>The whole path as sent, prefix included.</summary>
    public ReadOnlySpan<char> Path { get; }

    /// <summary>The path after the measurement prefix: empty, or starting with '/'.</summary>
    public ReadOnlySpan<char> Rest { get; }

    /// <summary>The query without its '?', empty when absent.</summary>
    public ReadOnlySpan<char> Query { get; }

    private RequestTarget(ReadOnlySpan<char> path, ReadOnlySpan<char> rest, ReadOnlySpan<char> query)
    {
        Path = path;
        Rest = rest;
        Query = query;
    }

    /// <summary>
    /// Whether the query pair at <paramref name="offset"/> followed a second '?' (<c>gtm.js??id=…</c>).
    /// <see cref="Query"/> has lost its own '?' and <c>QueryPairs</c> drops one more, but an upstream reads that
    /// pair's name as <c>?id</c>: a walker that looks for our names passes over it.
    /// </summary>
    public static bool FollowsSecondQuestionMark(ReadOnlySpan<char> query, int offset) => offset == 1 && query[0] == '?';

    public static TargetVerdict TryParse(ReadOnlySpan<char> rawTarget, string measurementPath, out RequestTarget target)
    {
        target = default;
        if (rawTarget.IsEmpty || rawTarget[0] != '/')
        {
            return TargetVerdict.NotOriginForm;
        }

        var q = rawTarget.IndexOf('?');
        var path = q < 0 ? rawTarget : rawTarget[..q];
        var query = q < 0 ? [] : rawTarget[(q + 1)..];

        // Prefix match is ordinal and whole-segment: /metricsX and /METRICS are not ours.
        if (!path.StartsWith(measurementPath, StringComparison.Ordinal)
            || (path.Length > measurementPath.Length && path[measurementPath.Length] != '/'))
        {
            return TargetVerdict.NotMeasurementPath;
        }

        if (!IsCleanPath(path))
        {
            return TargetVerdict.Traversal;
        }

        if (query.ContainsAny(Forbidden))
        {
            return TargetVerdict.Traversal;
        }

        target = new RequestTarget(path, path[measurementPath.Length..], query);
        return TargetVerdict.Ok;
    }

    private static bool IsCleanPath(ReadOnlySpan<char> path)
    {
        // Only RFC 3986 path characters, raw: no controls, spaces, backslashes, quotes or non-ASCII (a raw
        // fullwidth dot included). Google's paths are plain ASCII.
        if (path.ContainsAnyExcept(PathChars) || path.Contains("//", StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = path.IndexOf('%'); i >= 0; i = NextPercent(path, i))
        {
            if (i + 2 >= path.Length || !Hex.Contains(path[i + 1]) || !Hex.Contains(path[i + 2]))
            {
                return false;
            }

            // An escape of a byte outside printable ASCII (overlong UTF-8, fullwidth or ideographic dots, controls),
            // or of a delimiter: ".", "/", "\", ";", "?", "#", a space, or "%" itself (decoded twice, "%252e" is
            // "."). None appears in a path Google's tag sends; each exists to make two parsers read two paths.
            var escaped = (HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]);
            if (escaped is < 0x20 or >= 0x7F || EscapedDelimiters.Contains((char)escaped))
            {
                return false;
            }
        }

        foreach (var range in path[1..].Split('/'))
        {
            if (!IsCleanSegment(path[1..][range]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// No dot segment in any disguise: "." and "..", a trailing dot (Windows drops it, so "..." is ".." and
    /// "collect." is "collect"), a trailing ";", or a servlet path parameter on an empty or dots-only name
    /// ("..;x" is ".." to Tomcat and Jetty). An empty segment is only allowed last ("/metrics/").
    /// </summary>
    private static bool IsCleanSegment(ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty)
        {
            return true;
        }

        if (segment[^1] is '.' or ';')
        {
            return false;
        }

        var semicolon = segment.IndexOf(';');
        return semicolon < 0 || segment[..semicolon].ContainsAnyExcept('.');
    }

    private static int HexValue(char c) => c switch
    {
        <= '9' => c - '0',
        <= 'F' => c - 'A' + 10,
        _ => c - 'a' + 10,
    };

    private static int NextPercent(ReadOnlySpan<char> path, int from)
    {
        var next = path[(from + 1)..].IndexOf('%');
        return next < 0 ? -1 : from + 1 + next;
    }
}
