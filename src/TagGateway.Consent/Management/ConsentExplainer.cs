using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Consent.Wire;

namespace TagGateway.Consent.Management;

/// <summary>Builds the explanation of one hit: per event line, the decoded signals, the effective consent and every destination's decision.</summary>
internal static class ConsentExplainer
{
    public const int MaxEvents = 500;
    private const int MaxEchoLength = 64;

    public static ExplainResponse Explain(IConsentPolicy policy, string url, string? body, string region, bool gpc)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var query = ExtractQuery(url);
        var urlSignals = ConsentSignals.FromQuery(query, gpc);

        var events = new List<ExplainEvent>();
        if (string.IsNullOrWhiteSpace(body))
        {
            events.Add(Describe(policy, 0, urlSignals, query, default, region));
        }
        else
        {
            var line = 0;
            foreach (var bodyLine in HitBody.EnumerateLines(body.AsSpan()))
            {
                line++;
                events.Add(Describe(policy, line, urlSignals.WithOverrides(bodyLine), query, bodyLine, region));
            }
        }

        return new ExplainResponse { Region = region, Gpc = gpc, Events = events };
    }

    public static int CountEvents(string? body)
    {
        var count = 0;
        foreach (var _ in HitBody.EnumerateLines(body.AsSpan()))
        {
            count++;
        }

        return count;
    }

    /// <summary>A full URL, a path with a query, "?a=b" or a bare "a=b&amp;c=d" → the query part.</summary>
    internal static ReadOnlySpan<char> ExtractQuery(string url)
    {
        var value = url.AsSpan().Trim();
        var hash = value.IndexOf('#');
        if (hash >= 0)
        {
            value = value[..hash];
        }

        var question = value.IndexOf('?');
        if (question >= 0)
        {
            return value[(question + 1)..];
        }

        return value.Contains("://", StringComparison.Ordinal) || value.StartsWith('/') ? default : value;
    }

    private static ExplainEvent Describe(IConsentPolicy policy, int line, ConsentSignals signals, ReadOnlySpan<char> query, ReadOnlySpan<char> bodyLine, string region)
    {
        var decision = policy.Decide(signals, region);

        var consent = new List<ExplainConsentType>(4);
        foreach (var type in ConsentNames.Types)
        {
            var signal = signals.Get(type);
            var resolution = decision.Consent.Get(type);
            consent.Add(new ExplainConsentType
            {
                Type = ConsentNames.Of(type),
                Default = ConsentNames.Of(signal.Default),
                Update = ConsentNames.Of(signal.Update),
                Gcs = ConsentNames.Of(signal.Gcs),
                Effective = ConsentNames.Of(resolution.State),
                Source = ConsentNames.Of(resolution.Source),
                Denial = ConsentNames.Of(resolution.Denial),
                UnknownGcdLetter = signal.UnknownGcdLetter == '\0' ? null : signal.UnknownGcdLetter.ToString(),
            });
        }

        var destinations = new List<ExplainDestination>(decision.DestinationCount);
        for (var i = 0; i < decision.DestinationCount; i++)
        {
            var destination = decision.For((ConsentDestination)i);
            destinations.Add(new ExplainDestination
            {
                Name = destination.Name ?? string.Empty,
                Outcome = ConsentNames.Of(destination.Outcome),
                MaySend = destination.MaySend,
                MayUseIdentifiers = destination.MayUseIdentifiers,
                IdentifiersWithdrawn = destination.IdentifiersWithdrawn,
                MayAttachUserData = destination.MayAttachUserData,
                Restricted = destination.IsRestricted,
                RestrictedForm = ConsentNames.Of(destination.RestrictedForm),
            });
        }

        return new ExplainEvent
        {
            Line = line,
            EventName = Echo(Lookup(query, bodyLine, "en")),
            RegionProfile = ConsentNames.Of(decision.RegionProfile),
            Signals = new ExplainSignals
            {
                Gcs = Echo(Lookup(query, bodyLine, "gcs")),
                GcsStatus = ConsentNames.Of(signals.Gcs),
                Gcd = Echo(Lookup(query, bodyLine, "gcd")),
                GcdStatus = ConsentNames.Of(signals.Gcd),
                Npa = ConsentNames.Of(signals.NonPersonalizedAds),
                Dma = ConsentNames.Of(signals.DmaApplies),
                DmaPurposes = signals.HasDmaPurposes,
                ConsentUpdated = signals.ConsentUpdated,
                Gdpr = ConsentNames.Of(signals.GdprApplies),
                GdprConsent = ConsentNames.Of(signals.TcfConsent),
                Gpp = ConsentNames.Of(signals.Gpp),
                GppSid = ConsentNames.Of(signals.GppSectionIds),
                Gpc = signals.GlobalPrivacyControl,
            },
            Consent = consent,
            Destinations = destinations,
        };
    }

    // The body line's value wins over the URL's, as for the decision itself.
    private static string? Lookup(ReadOnlySpan<char> query, ReadOnlySpan<char> bodyLine, string name) =>
        QueryPairs.TryGetRawValue(bodyLine, name, out var value) || QueryPairs.TryGetRawValue(query, name, out value)
            ? value.ToString()
            : null;

    private static string? Echo(string? raw)
    {
        if (raw is null)
        {
            return null;
        }

        // UnescapeDataString leaves broken escapes as they are, which is what an operator wants to see.
        var decoded = Uri.UnescapeDataString(raw.Replace('+', ' '));
        return decoded.Length > MaxEchoLength ? decoded[..MaxEchoLength] : decoded;
    }
}
