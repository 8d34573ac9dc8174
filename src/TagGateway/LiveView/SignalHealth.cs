using System.Globalization;
using TagGateway.Capi.Ingest;
using TagGateway.Observability;

namespace TagGateway.LiveView;

// The signal-health report: every number is a sum of Prometheus samples (the same series /metrics renders), so the
// report and the counters cannot disagree. Built only when the page asks.

internal sealed record SignalReport(
    string GeneratedAt,
    CapiHealth Capi,
    List<ConsentOutcome> ConsentByRegion,
    CookieHealth Cookies,
    ScriptHealth Scripts,
    List<UpstreamLatency> Upstream,
    List<ReportSample> Samples);

/// <summary>
/// Events stored from browser hits and from the site's server, and per destination what became of them. The store
/// counts merges (an event seen from both sides) and duplicates per destination; the origin split is module-wide.
/// </summary>
internal sealed record CapiHealth(double AcceptedFromBrowser, double AcceptedFromServer, List<CapiDestinationHealth> Destinations);

internal sealed record CapiDestinationHealth(
    string Destination,
    double Delivered,
    double MergedBrowserAndServer,
    double DuplicatesDropped,
    double DeadLettered,
    double StaleDropped,
    double OtherDropped,
    string? LastDelivery,
    double? EstimatedMatchScore,
    List<IdentityKeyShare> IdentityKeys);

/// <summary>How many delivered events carried a key, their share of the destination's delivered events, the key's weight.</summary>
internal sealed record IdentityKeyShare(string Key, double Events, double Share, double Weight);

internal sealed record ConsentOutcome(string Region, double Hits, double AnalyticsGranted, double AdsGranted);

/// <summary>Identifier cookies by header: written by action, and the two that matter for Safari (restores, server-set).</summary>
internal sealed record CookieHealth(double Restored, double ServerSet, double Refreshed, double Expired, List<ReportSample> ByAction);

/// <summary>Served from cache = hit, stale, revalidated or stale-if-error; the rate is over all lookups.</summary>
internal sealed record ScriptHealth(double Lookups, double ServedFromCache, double? HitRate, List<ReportSample> ByResult);

internal sealed record UpstreamLatency(string Route, double Responses, double? MeanMilliseconds);

internal sealed record ReportSample(string Metric, string Labels, double Value);

internal static class SignalHealth
{
    private const string Delivered = "taggateway_capi_events_delivered_total";
    private const string Merged = "taggateway_capi_events_merged_total";
    private const string Duplicates = "taggateway_capi_events_duplicates_total";
    private const string DeadLettered = "taggateway_capi_events_dead_lettered_total";
    private const string Dropped = "taggateway_capi_events_dropped_total";
    private const string Accepted = "taggateway_capi_events_accepted_total";
    private const string IdentityKeys = "taggateway_capi_identity_keys_total";
    private const string MatchScore = "taggateway_capi_match_quality_score";
    private const string ConsentDecisions = "taggateway_consent_decisions_total";
    private const string CookiesWritten = "taggateway_cookies_written_total";
    private const string CacheLookups = "taggateway_script_cache_lookups_total";
    private const string UpstreamCount = "taggateway_upstream_duration_seconds_count";
    private const string UpstreamSum = "taggateway_upstream_duration_seconds_sum";

    public static SignalReport Build(List<MetricSample> metrics, IReadOnlyList<string> configuredDestinations, CapiDeliveryTimes deliveries, DateTimeOffset now)
    {
        var samples = metrics.ConvertAll(static s => new ReportSample(s.Name, s.Labels, s.Value));

        // Configured destinations first (they show even before their first event), then any other the counters name.
        var destinations = new List<string>(configuredDestinations);
        foreach (var sample in samples)
        {
            if (sample.Metric.StartsWith("taggateway_capi_", StringComparison.Ordinal) && Label(sample.Labels, "destination") is { } named && named != "all" && !destinations.Contains(named))
            {
                destinations.Add(named);
            }
        }

        var capi = new CapiHealth(
            Sum(samples, Accepted, ("origin", "hit")),
            Sum(samples, Accepted, ("origin", "server")),
            destinations.ConvertAll(d => Destination(samples, d, deliveries)));

        var regions = new List<ConsentOutcome>();
        foreach (var region in Distinct(samples, ConsentDecisions, "region"))
        {
            regions.Add(new ConsentOutcome(
                region,
                Sum(samples, ConsentDecisions, ("region", region)),
                Sum(samples, ConsentDecisions, ("region", region), ("analytics_storage", "granted")),
                Sum(samples, ConsentDecisions, ("region", region), ("ad_storage", "granted"))));
        }

        var cookies = new CookieHealth(
            Sum(samples, CookiesWritten, ("action", "restore")),
            Sum(samples, CookiesWritten, ("action", "mint")),
            Sum(samples, CookiesWritten, ("action", "refresh")),
            Sum(samples, CookiesWritten, ("action", "expire")),
            samples.FindAll(static s => s.Metric == CookiesWritten));

        var lookups = Sum(samples, CacheLookups);
        var fromCache = Sum(samples, CacheLookups, ("result", "hit")) + Sum(samples, CacheLookups, ("result", "stale"))
            + Sum(samples, CacheLookups, ("result", "revalidated")) + Sum(samples, CacheLookups, ("result", "stale_if_error"));
        var scripts = new ScriptHealth(lookups, fromCache, lookups > 0 ? Math.Round(fromCache / lookups, 4) : null, samples.FindAll(static s => s.Metric == CacheLookups));

        var upstream = new List<UpstreamLatency>();
        foreach (var route in Distinct(samples, UpstreamCount, "route"))
        {
            var count = Sum(samples, UpstreamCount, ("route", route));
            var seconds = Sum(samples, UpstreamSum, ("route", route));
            upstream.Add(new UpstreamLatency(route, count, count > 0 ? Math.Round(seconds * 1000 / count, 2) : null));
        }

        return new SignalReport(now.ToString("O", CultureInfo.InvariantCulture), capi, regions, cookies, scripts, upstream, samples);
    }

    private static CapiDestinationHealth Destination(List<ReportSample> samples, string destination, CapiDeliveryTimes deliveries)
    {
        var delivered = Sum(samples, Delivered, ("destination", destination));
        var keys = new List<IdentityKeyShare>();
        foreach (var (key, weight) in CapiStatus.MatchQualityWeights)
        {
            var carried = Sum(samples, IdentityKeys, ("destination", destination), ("key", key));
            keys.Add(new IdentityKeyShare(key, carried, delivered > 0 ? Math.Round(carried / delivered, 4) : 0, weight));
        }

        var stale = Sum(samples, Dropped, ("destination", destination), ("reason", "stale"));
        var score = samples.Find(s => s.Metric == MatchScore && Label(s.Labels, "destination") == destination);
        return new CapiDestinationHealth(
            destination,
            delivered,
            Sum(samples, Merged, ("destination", destination)),
            Sum(samples, Duplicates, ("destination", destination)),
            Sum(samples, DeadLettered, ("destination", destination)),
            stale,
            Sum(samples, Dropped, ("destination", destination)) - stale,
            deliveries.LastDelivery(destination)?.ToString("O", CultureInfo.InvariantCulture),
            score is null ? null : Math.Round(score.Value, 2),
            keys);
    }

    private static double Sum(List<ReportSample> samples, string metric, params ReadOnlySpan<(string Key, string Value)> labels)
    {
        double sum = 0;
        foreach (var sample in samples)
        {
            if (sample.Metric != metric)
            {
                continue;
            }

            var matches = true;
            foreach (var (key, value) in labels)
            {
                matches &= Label(sample.Labels, key) == value;
            }

            sum += matches ? sample.Value : 0;
        }

        return sum;
    }

    private static List<string> Distinct(List<ReportSample> samples, string metric, string key)
    {
        var values = new List<string>();
        foreach (var sample in samples)
        {
            if (sample.Metric == metric && Label(sample.Labels, key) is { } value && !values.Contains(value))
            {
                values.Add(value);
            }
        }

        return values;
    }

    /// <summary>A label's value in the exposition's <c>{k="v",…}</c> form; the gateway's label values hold no quote.</summary>
    internal static string? Label(string labels, string key)
    {
        var needle = string.Concat(key, "=\"");
        var start = 0;
        while ((start = labels.IndexOf(needle, start, StringComparison.Ordinal)) >= 0)
        {
            if (start == 1 || (start > 1 && labels[start - 1] == ','))
            {
                var from = start + needle.Length;
                var end = labels.IndexOf('"', from);
                return end < 0 ? null : labels[from..end];
            }

            start += needle.Length;
        }

        return null;
    }
}
