using TagGateway.Consent.Signals;
using TagGateway.Consent.Wire;

namespace TagGateway.Hits;

/// <summary>Why a hit was refused before anything went upstream.</summary>
internal enum HitRefusal
{
    None,

    /// <summary>A <c>tid</c> that is not a Google destination ID.</summary>
    MalformedDestinationId,

    /// <summary>Two <c>tid</c> parameters, or one spelled so a decoder might read it as <c>tid</c> (<c>TID</c>, <c>%74id</c>).</summary>
    AmbiguousDestinationId,
}

/// <summary>The facts of a hit's query, found in one walk. Ranges index the raw query; an empty range is "absent".</summary>
internal readonly record struct HitFacts(
    HitKind Kind,
    Range DestinationId,
    Range ClientId,
    Range EventName,
    Range PageUrl,
    bool HasUserData,
    bool IsProtocolV2)
{
    /// <summary>
    /// Reads a hit's query: classifies it by protocol, finds the fields later steps need, and refuses destination IDs
    /// that are malformed or ambiguous. Never allocates.
    /// </summary>
    public static HitRefusal TryParse(ReadOnlySpan<char> rest, ReadOnlySpan<char> query, out HitFacts facts)
    {
        Range tid = default, cid = default, en = default, dl = default;
        bool hasTid = false, hasUserData = false, v2 = false;
        foreach (var pair in new QueryPairs<char>(query))
        {
            // Ranges, not spans, so the hit model can keep them beside its one query string.
            query.Overlaps(pair.Value, out var valueStart);
            var value = pair.Value.IsEmpty ? default : new Range(valueStart, valueStart + pair.Value.Length);
            switch (pair.Name)
            {
                case "tid":
                    if (hasTid)
                    {
                        facts = default;
                        return HitRefusal.AmbiguousDestinationId;
                    }

                    if (!DestinationIds.IsWellFormed(pair.Value))
                    {
                        facts = default;
                        return HitRefusal.MalformedDestinationId;
                    }

                    hasTid = true;
                    tid = value;
                    break;
                case "v":
                    v2 = pair.Value is "2";
                    break;
                case "cid":
                    cid = value;
                    break;
                case "en":
                    en = value;
                    break;
                case "dl":
                    dl = value;
                    break;
                case "em":
                    hasUserData = true;
                    break;
                default:
                    if (WireNames.IsDisguised(pair.Name, "tid"))
                    {
                        facts = default;
                        return HitRefusal.AmbiguousDestinationId;
                    }

                    break;
            }
        }

        var destination = query[tid];
        var kind = Classify(rest, destination, v2);
        facts = new HitFacts(kind, tid, cid, en, dl, hasUserData, v2);
        return HitRefusal.None;
    }

    /// <summary>
    /// Checks the batched body's lines as the query was checked: a line may name its own <c>tid</c>, and it must be a
    /// well-formed destination ID too (a <c>tid</c> only in the body must not slip past the check).
    /// </summary>
    public static HitRefusal CheckBody(ReadOnlySpan<byte> body)
    {
        Span<char> chars = stackalloc char[24];
        foreach (var line in HitBody.EnumerateLines(body))
        {
            var seen = false;
            foreach (var pair in new QueryPairs<byte>(line))
            {
                if (pair.NameIs("tid"))
                {
                    if (seen)
                    {
                        return HitRefusal.AmbiguousDestinationId;
                    }

                    seen = true;
                    var value = pair.Value;
                    if (value.Length > chars.Length || !IsAscii(value, chars) || !DestinationIds.IsWellFormed(chars[..value.Length]))
                    {
                        return HitRefusal.MalformedDestinationId;
                    }
                }
                else if (WireNames.IsDisguised(pair.Name, "tid"))
                {
                    return HitRefusal.AmbiguousDestinationId;
                }
            }
        }

        return HitRefusal.None;
    }

    // An Ads path decides even when the tag's G- ID rides along: the Google tag sends its Ads and conversion-linker
    // pings (ccm/collect) with the same tid, and those must never count as GA4 events.
    // "/as/p/c/<n>/" is the tag gateway's short form of an Ads conversion (docs/protocols.md §1).
    private static readonly string[] AdsPathMarkers = ["/ccm/", "/pagead/", "/rmkt/", "/td/", "/ddm/", "/activity", "/as/p/c/"];

    private static HitKind Classify(ReadOnlySpan<char> rest, ReadOnlySpan<char> destination, bool v2)
    {
        foreach (var marker in AdsPathMarkers)
        {
            if (rest.Contains(marker, StringComparison.Ordinal))
            {
                return HitKind.GoogleAds;
            }
        }

        if (DestinationIds.IsAds(destination))
        {
            return HitKind.GoogleAds;
        }

        return v2 && DestinationIds.IsAnalytics(destination) ? HitKind.GoogleAnalytics : HitKind.Other;
    }

    private static bool IsAscii(ReadOnlySpan<byte> value, Span<char> chars)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] > 0x7F)
            {
                return false;
            }

            chars[i] = (char)value[i];
        }

        return true;
    }
}
