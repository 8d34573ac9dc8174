using System.Buffers;

namespace TagGateway.Configuration;

/// <summary>Google tag ID syntax, checked before any upstream URL or host is built from one.</summary>
internal static class TagId
{
    private static readonly SearchValues<char> Suffix = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    public const int MaxLength = 20;

    /// <summary><c>G-</c>, <c>GT-</c>, <c>GTM-</c>, <c>AW-</c> or <c>DC-</c> followed by 4-16 upper-case letters or digits.</summary>
    public static bool IsValid(ReadOnlySpan<char> id)
    {
        var dash = id.IndexOf('-');
        if (dash < 1 || id.Length > MaxLength)
        {
            return false;
        }

        var prefix = id[..dash];
        if (!(prefix is "G" or "GT" or "GTM" or "AW" or "DC"))
        {
            return false;
        }

        var suffix = id[(dash + 1)..];
        return suffix.Length is >= 4 and <= 16 && !suffix.ContainsAnyExcept(Suffix);
    }
}
