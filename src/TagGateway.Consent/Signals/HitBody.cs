using System.Numerics;

namespace TagGateway.Consent.Signals;

/// <summary>
/// Splits a batched GA4 body into its events: one event per non-empty line, CRLF or LF, surrounding blanks trimmed.
/// Works on the raw bytes or chars and never allocates.
/// </summary>
public static class HitBody
{
    /// <summary>Enumerates the event lines of a UTF-8 body.</summary>
    public static HitBodyLineEnumerator<byte> EnumerateLines(ReadOnlySpan<byte> body) => new(body);

    /// <summary>Enumerates the event lines of a body already held as text.</summary>
    public static HitBodyLineEnumerator<char> EnumerateLines(ReadOnlySpan<char> body) => new(body);
}

/// <summary>A foreach-able enumerator over the non-empty lines of a hit body.</summary>
public ref struct HitBodyLineEnumerator<TChar>
    where TChar : unmanaged, IBinaryInteger<TChar>
{
    private ReadOnlySpan<TChar> _rest;

    internal HitBodyLineEnumerator(ReadOnlySpan<TChar> body)
    {
        _rest = body;
        Current = default;
    }

    public ReadOnlySpan<TChar> Current { get; private set; }

    public readonly HitBodyLineEnumerator<TChar> GetEnumerator() => this;

    public bool MoveNext()
    {
        var newLine = CodeUnit.From<TChar>('\n');
        while (!_rest.IsEmpty)
        {
            var end = _rest.IndexOf(newLine);
            ReadOnlySpan<TChar> line;
            if (end < 0)
            {
                line = _rest;
                _rest = default;
            }
            else
            {
                line = _rest[..end];
                _rest = _rest[(end + 1)..];
            }

            line = Trim(line);
            if (!line.IsEmpty)
            {
                Current = line;
                return true;
            }
        }

        Current = default;
        return false;
    }

    private static ReadOnlySpan<TChar> Trim(ReadOnlySpan<TChar> line)
    {
        var start = 0;
        var end = line.Length;
        while (start < end && IsBlank(line[start]))
        {
            start++;
        }

        while (end > start && IsBlank(line[end - 1]))
        {
            end--;
        }

        return line[start..end];
    }

    private static bool IsBlank(TChar c)
    {
        var value = CodeUnit.ToInt(c);
        return value is '\r' or ' ' or '\t';
    }
}
