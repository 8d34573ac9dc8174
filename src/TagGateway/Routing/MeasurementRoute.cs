using TagGateway.Consent.Wire;
using TagGateway.Hits;

namespace TagGateway.Routing;

/// <summary>What a request under the measurement path is.</summary>
internal enum MeasurementRoute
{
    /// <summary><c>/healthy</c>: answered <c>ok</c> by the gateway itself, as GTG does.</summary>
    Health,

    /// <summary><c>/tg-doctor</c>: what the gateway saw of the edge, for <c>TagGateway doctor</c> (authorised requests only).</summary>
    Diagnostic,

    /// <summary>A tag loader or dependency: cached, compressed, revalidated.</summary>
    Script,

    /// <summary>Everything else: a measurement hit, streamed to the upstream as it is.</summary>
    Hit,
}

internal static class MeasurementRoutes
{
    // Google's first-party serving code treats these prefixes as script requests; ns.html and
    // gtag/destination are the noscript frame and the Google tag's destination loader.
    private static readonly string[] ScriptPrefixes = ["/gtm.js", "/gtag.js", "/gtag/js", "/gtag/destination", "/ns.html"];

    public static MeasurementRoute Classify(ReadOnlySpan<char> rest, ReadOnlySpan<char> query)
    {
        if (rest is "/healthy")
        {
            return MeasurementRoute.Health;
        }

        if (rest is ClientIdentity.EdgeDiagnostic.Path)
        {
            return MeasurementRoute.Diagnostic;
        }

        foreach (var prefix in ScriptPrefixes)
        {
            if (rest.StartsWith(prefix, StringComparison.Ordinal)
                && (rest.Length == prefix.Length || rest[prefix.Length] is '/' or '?'))
            {
                return MeasurementRoute.Script;
            }
        }

        // The GTG loader form: the measurement path itself with ?id=<tag>. An "id" in disguise (ID=, %69d=, id[]=)
        // makes it a script load too, so the script check refuses it instead of it passing upstream as a hit.
        if (rest is "" or "/" && NamesATag(query))
        {
            return MeasurementRoute.Script;
        }

        return MeasurementRoute.Hit;
    }

    /// <summary>Whether any parameter names a tag (<c>id</c>, or <c>id</c> in disguise): the GTG loader form is a script load then.</summary>
    internal static bool NamesATag(ReadOnlySpan<char> query)
    {
        foreach (var pair in new QueryPairs<char>(query))
        {
            query.Overlaps(pair.Pair, out var offset);
            if (!RequestTarget.FollowsSecondQuestionMark(query, offset) && (pair.Name is "id" || WireNames.IsDisguised(pair.Name, "id")))
            {
                return true;
            }
        }

        return false;
    }
}
