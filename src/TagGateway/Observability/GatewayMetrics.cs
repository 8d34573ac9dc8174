using System.Diagnostics.Metrics;
using TagGateway.ClientIdentity;
using TagGateway.Hosting;

namespace TagGateway.Observability;

/// <summary>Request, upstream and cache instruments of the gateway (meter <c>TagGateway</c>).</summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "TagGateway";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _userDataStripped;
    private readonly Counter<long> _scriptMissesRefused;
    private readonly Counter<long> _consentDecisions;

    public GatewayMetrics(IMeterFactory meterFactory, Listeners listeners, GeolocationHealth geolocation)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(listeners);
        Geolocation = geolocation;
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("taggateway.requests", "{request}", "Requests under the measurement path, by route and outcome.");
        _upstreamDuration = meter.CreateHistogram<double>("taggateway.upstream.duration", "s", "Time from sending a request upstream to its response headers.");
        _cacheLookups = meter.CreateCounter<long>("taggateway.script_cache.lookups", "{lookup}", "Script cache lookups by result (hit, miss, stale, revalidated, stale_if_error, bypass, over_budget, error).");
        _scriptMissesRefused = meter.CreateCounter<long>("taggateway.script_cache.misses_refused", "{request}", "Script loads refused with 503 because the miss budget (Gateway:Scripts:MaxMissesPerSecond) was spent.");
        _rejected = meter.CreateCounter<long>("taggateway.rejected", "{request}", "Requests refused before reaching an upstream, by reason.");
        _consentDecisions = meter.CreateCounter<long>("taggateway.consent.decisions", "{hit}", "Hits by consent region profile (strict, other, configured, unknown) and the resulting analytics_storage and ad_storage (granted, denied).");
        _userDataStripped = meter.CreateCounter<long>("taggateway.user_data.stripped", "{request}", "Hits whose user-provided data (em) was removed because ad_user_data was not granted.");

        // Read from lock-free counters at scrape time: nothing is recorded per connection or per request.
        meter.CreateObservableGauge("taggateway.connections", () => Connections(listeners, open: true), "{connection}", "Open connections by listener.");
        meter.CreateObservableCounter("taggateway.connections.rejected", () => Connections(listeners, open: false), "{connection}", "Connections closed unanswered because their listener was at Gateway:Limits.");
        meter.CreateObservableCounter("taggateway.requests_with_geolocation", () => geolocation.WithGeolocation, "{request}", "Requests under the measurement path whose visitor location was known.");
        meter.CreateObservableCounter("taggateway.requests_without_geolocation", () => WithoutGeolocation(geolocation), "{request}", "Requests under the measurement path without visitor location (strict consent default), by source: edge (a trusted edge sent none) or socket (edge headers not believed).");
        meter.CreateObservableGauge("taggateway.geolocation.state", () => GeolocationStates(geolocation.State), "{state}", "1 for the current geolocation state (unknown, present, missing).");
    }

    /// <summary>The observer of visitor geolocation on each request (one instance per host).</summary>
    public GeolocationHealth Geolocation { get; }

    public void RequestCompleted(string route, string outcome) =>
        _requests.Add(1, new KeyValuePair<string, object?>("route", route), new KeyValuePair<string, object?>("outcome", outcome));

    public void UpstreamResponded(string route, double seconds) =>
        _upstreamDuration.Record(seconds, new KeyValuePair<string, object?>("route", route));

    public void CacheLookup(string result) =>
        _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", result));

    /// <summary>One hit's consent outcome; the labels are constants, so a hit builds no string.</summary>
    public void ConsentDecided(Consent.Policy.RegionProfile profile, bool analyticsGranted, bool adsGranted) =>
        _consentDecisions.Add(
            1,
            new KeyValuePair<string, object?>("region", profile switch
            {
                Consent.Policy.RegionProfile.Strict => "strict",
                Consent.Policy.RegionProfile.Other => "other",
                Consent.Policy.RegionProfile.Configured => "configured",
                _ => "unknown",
            }),
            new KeyValuePair<string, object?>("analytics_storage", analyticsGranted ? "granted" : "denied"),
            new KeyValuePair<string, object?>("ad_storage", adsGranted ? "granted" : "denied"));

    public void UserDataStripped() => _userDataStripped.Add(1);

    public void ScriptMissRefused() => _scriptMissesRefused.Add(1);

    public void Rejected(string reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    private static IEnumerable<Measurement<long>> Connections(Listeners listeners, bool open)
    {
        foreach (var limiter in listeners.Limiters)
        {
            var tag = new KeyValuePair<string, object?>("listener", limiter.Kind == ListenerKind.Public ? "public" : "management");
            yield return new Measurement<long>(open ? limiter.Open : limiter.Rejected, tag);
        }
    }

    private static Measurement<long>[] WithoutGeolocation(GeolocationHealth geolocation) =>
    [
        new(geolocation.WithoutFromEdge, new KeyValuePair<string, object?>("source", "edge")),
        new(geolocation.WithoutFromSocket, new KeyValuePair<string, object?>("source", "socket")),
    ];

    private static Measurement<int>[] GeolocationStates(GeolocationState state) =>
    [
        new(state == GeolocationState.Unknown ? 1 : 0, new KeyValuePair<string, object?>("state", "unknown")),
        new(state == GeolocationState.Present ? 1 : 0, new KeyValuePair<string, object?>("state", "present")),
        new(state == GeolocationState.Missing ? 1 : 0, new KeyValuePair<string, object?>("state", "missing")),
    ];
}

/// <summary>Tag values, as constants so instruments never see a freshly built string.</summary>
internal static class MetricTags
{
    public const string Script = "script";
    public const string Hit = "hit";
    public const string Ga4Hit = "ga4_hit";
    public const string AdsHit = "ads_hit";
    public const string Health = "health";

    public const string Ok = "ok";
    public const string ClientError = "client_error";
    public const string UpstreamError = "upstream_error";
    public const string UpstreamTimeout = "upstream_timeout";
    public const string ClientAborted = "client_aborted";
    public const string Overloaded = "overloaded";

    /// <summary>The route tag of a hit: its kind, so an operator sees GA4 and Ads traffic apart whatever path it took.</summary>
    public static string ForHit(Hits.HitKind kind) => kind switch
    {
        Hits.HitKind.GoogleAnalytics => Ga4Hit,
        Hits.HitKind.GoogleAds => AdsHit,
        _ => Hit,
    };
}
