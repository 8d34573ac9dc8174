using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace TagGateway.Configuration;

/// <summary>The rules Google, Cloudflare and Akamai put on a gateway path, reduced to what all of them accept.</summary>
internal static class MeasurementPath
{
    public const int MaxLength = 100;

    // RFC 3986 unreserved characters; anything else would need encoding and cannot be compared byte for byte.
    private static readonly SearchValues<char> SegmentChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    public static bool TryValidate(string? path, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            error = "must start with '/'.";
            return false;
        }

        if (path == "/")
        {
            error = "must not be '/': the site's own pages live there.";
            return false;
        }

        if (path.Length > MaxLength)
        {
            error = $"must be at most {MaxLength} characters.";
            return false;
        }

        foreach (var segment in path[1..].Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.AsSpan().ContainsAnyExcept(SegmentChars))
            {
                error = "must be one or more '/'-separated segments of letters, digits, '-', '.', '_' or '~' (no empty, '.' or '..' segment, no trailing '/').";
                return false;
            }
        }

        error = null;
        return true;
    }
}
