using TagGateway.Configuration;

namespace TagGateway.Hits;

/// <summary>
/// Google destination IDs as hits carry them. A hit's <c>tid</c> chooses nothing (the upstream is fixed by
/// configuration), so any well-formed ID passes; the syntax check keeps arbitrary text out of what we log and count.
/// </summary>
internal static class DestinationIds
{
    public static bool IsWellFormed(ReadOnlySpan<char> id) => TagId.IsValid(id);

    public static bool IsAnalytics(ReadOnlySpan<char> id) => id.StartsWith("G-", StringComparison.Ordinal);

    public static bool IsAds(ReadOnlySpan<char> id) =>
        id.StartsWith("AW-", StringComparison.Ordinal) || id.StartsWith("DC-", StringComparison.Ordinal);
}
