using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage;

namespace TagGateway.Capi.Ingest;

/// <summary>
/// Optional: told what each accepted <c>POST /capi/v1/events</c> request created, so a host can show it (the live
/// view). Resolved per request from the request's services; the module never depends on it being there.
/// </summary>
public interface ICapiIngestObserver
{
    /// <summary>
    /// Called once per stored batch, before the 202 is written. <paramref name="events"/> carries names, IDs and fates
    /// only: never user data.
    /// </summary>
    void OnIngested(HttpContext context, ReadOnlySpan<CapiIngestedEvent> events);
}

/// <summary>One server event as the ingest decided it: its name, its ID, its fate and the destinations that take it.</summary>
public readonly record struct CapiIngestedEvent(string EventName, string EventId, CapiIngestFate Fate, CapiDestinationSet Destinations);

public enum CapiIngestFate : byte
{
    /// <summary>Stored for delivery.</summary>
    Accepted,

    /// <summary>Its browser (or server) twin was still waiting: identity merged into it.</summary>
    Merged,

    /// <summary>Already sent to every destination: dropped by the dedup ledger.</summary>
    Duplicate,

    /// <summary>No destination takes it (unmapped event, or consent denied everywhere).</summary>
    NotSent,
}

/// <summary>The conversion APIs an event goes to; bit values match the metrics' <c>destination</c> label order.</summary>
[Flags]
public enum CapiDestinationSet : byte
{
    None = 0,
    Meta = 1 << (int)CapiDestination.Meta,
    TikTok = 1 << (int)CapiDestination.TikTok,
    LinkedIn = 1 << (int)CapiDestination.LinkedIn,
    GoogleAds = 1 << (int)CapiDestination.GoogleAds,
    GoogleAnalytics = 1 << (int)CapiDestination.GoogleAnalytics,
}

/// <summary>What a host may read about the module's configuration without reaching into it.</summary>
public static class CapiStatus
{
    /// <summary>The metrics' <c>destination</c> label of each configured destination.</summary>
    public static IReadOnlyList<string> ConfiguredDestinations(CapiOptions options) =>
        [.. EventFactory.ConfiguredDestinations(options).Select(static d => d.Name())];

    /// <summary>The identity keys of the estimated match-quality score and their weights (the module README has the formula).</summary>
    public static IReadOnlyList<KeyValuePair<string, double>> MatchQualityWeights { get; } =
        [.. Quality.MatchQualityTracker.Keys.Select(static k => new KeyValuePair<string, double>(k.Key, k.Weight))];

    /// <summary>The metrics' <c>destination</c> label of a single destination.</summary>
    public static string DestinationName(CapiDestinationSet destination) => ((CapiDestination)System.Numerics.BitOperations.TrailingZeroCount((int)destination)).Name();
}

/// <summary>The ingest's one call into <see cref="ICapiIngestObserver"/>; nothing is built when no observer is registered.</summary>
internal static class CapiIngestObservation
{
    public static void Notify(HttpContext context, CapiEvent?[] built, bool[] notSent, AcceptStatus[] statuses)
    {
        if (context.RequestServices?.GetService<ICapiIngestObserver>() is not { } observer)
        {
            return;
        }

        var events = new CapiIngestedEvent[built.Length];
        var next = 0;
        for (var i = 0; i < built.Length; i++)
        {
            var status = notSent[i] ? AcceptStatus.NoDestination : statuses[next++];
            var fate = status switch
            {
                AcceptStatus.Accepted => CapiIngestFate.Accepted,
                AcceptStatus.Merged => CapiIngestFate.Merged,
                AcceptStatus.Duplicate => CapiIngestFate.Duplicate,
                _ => CapiIngestFate.NotSent,
            };
            var capiEvent = built[i]!;
            events[i] = new CapiIngestedEvent(capiEvent.Name, capiEvent.EventId, fate, notSent[i] ? CapiDestinationSet.None : (CapiDestinationSet)capiEvent.Destinations);
        }

        observer.OnIngested(context, events);
    }
}
