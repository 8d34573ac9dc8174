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

    /// <summary>Dot segments, encoded slashes or dots, backslashes, empty segments, NUL or bad escapes.</summary>
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
        if (path.ContainsAny(Forbidden) || path.Contains("//", StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = path.IndexOf('%'); i >= 0; i = NextPercent(path, i))
        {
            if (i + 2 >= path.Length || !Hex.Contains(path[i + 1]) || !Hex.Contains(path[i + 2]))
            {
                return false;
            }

            // %2E (.), %2F (/), %5C (\) and %00 exist only to smuggle a traversal past a filter.
            var escaped = path.Slice(i + 1, 2);
            if (escaped.Equals("2e", StringComparison.OrdinalIgnoreCase)
                || escaped.Equals("2f", StringComparison.OrdinalIgnoreCase)
                || escaped.Equals("5c", StringComparison.OrdinalIgnoreCase)
                || escaped.SequenceEqual("00"))
            {
                return false;
            }
        }

        // No "." or ".." segment anywhere.
        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (segment is "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    private static int NextPercent(ReadOnlySpan<char> path, int from)
    {
        var next = path[(from + 1)..].IndexOf('%');
        return next < 0 ? -1 : from + 1 + next;
    }
}
