using System.Buffers;
using System.ComponentModel.DataAnnotations;

namespace TagGateway.Capi.Configuration;

/// <summary>
/// An option that must be an ASCII token: an optional fixed prefix, then <see cref="MinLength"/> to <see cref="MaxLength"/>
/// characters from a set written as ranges and single characters (<c>"A-Za-z0-9_.-"</c>; a '-' first or last is itself).
/// Stands in for <see cref="RegularExpressionAttribute"/>, whose validation pulls the whole regex engine (about 0.7 MB)
/// into the native binary for a handful of start-up checks. A null or empty value is valid: <see cref="RequiredAttribute"/>
/// says whether one must be set.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false)]
internal sealed class AsciiTokenAttribute : ValidationAttribute
{
    private readonly SearchValues<char> _allowed;

    public AsciiTokenAttribute(string charset, int minLength, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, minLength);
        Charset = charset;
        MinLength = minLength;
        MaxLength = maxLength;
        _allowed = SearchValues.Create(Expand(charset));
    }

    public string Charset { get; }

    public int MinLength { get; }

    public int MaxLength { get; }

    /// <summary>Characters that must open the value, before the token proper ("G-" for a measurement id).</summary>
    public string Prefix { get; init; } = "";

    public override bool IsValid(object? value)
    {
        if (value is not string text || text.Length == 0)
        {
            return true;
        }

        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var token = text.AsSpan(Prefix.Length);
        return token.Length >= MinLength && token.Length <= MaxLength && !token.ContainsAnyExcept(_allowed);
    }

    public override string FormatErrorMessage(string name) =>
        $"The field {name} must be {Describe()}.";

    private string Describe()
    {
        var length = MinLength == MaxLength ? $"{MinLength}" : $"{MinLength} to {MaxLength}";
        var opening = Prefix.Length == 0 ? "" : $"'{Prefix}' followed by ";
        return $"{opening}{length} characters from [{Charset}]";
    }

    /// <summary>"A-Za-z0-9_.-" to the characters it names.</summary>
    internal static string Expand(string charset)
    {
        var chars = new List<char>();
        for (var i = 0; i < charset.Length; i++)
        {
            if (i + 2 < charset.Length && charset[i + 1] == '-')
            {
                for (var c = charset[i]; c <= charset[i + 2]; c++)
                {
                    chars.Add(c);
                }

                i += 2;
            }
            else
            {
                chars.Add(charset[i]);
            }
        }

        return new string(chars.ToArray());
    }
}
