using System.Diagnostics.Metrics;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Observability;

/// <summary>Counters and histograms on the "TagGateway.Capi" meter (the host's Prometheus exporter picks it up).</summary>
internal sealed class CapiMetrics
{
    public const string MeterName = "TagGateway.Capi";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _merged;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _identityKeys;
    private readonly Counter<long> _unauthorized;
    private readonly Counter<long> _tokenRefreshes;
    private readonly Counter<long> _gapFill;
    private readonly Counter<long> _dedupEvicted;

    public CapiMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _accepted = Meter.CreateCounter<long>("taggateway.capi.events.accepted", "{event}", "Events stored for delivery, by origin (hit or server).");
        _merged = Meter.CreateCounter<long>("taggateway.capi.events.merged", "{event}", "Events whose identity was merged into a pending twin, by destination.");
        _duplicates = Meter.CreateCounter<long>("taggateway.capi.events.duplicates", "{event}", "Events already sent to a destination (dedup ledger), by destination.");
        _delivered = Meter.CreateCounter<long>("taggateway.capi.events.delivered", "{event}", "Events the platform acknowledged, by destination.");
        _dropped = Meter.CreateCounter<long>("taggateway.capi.events.dropped", "{event}", "Events not sent, by destination and reason (stale, consent, unmapped, store_full, queue_full …).");
        _deadLettered = Meter.CreateCounter<long>("taggateway.capi.events.dead_lettered", "{event}", "Events moved to the dead-letter store on a non-retryable error, by destination.");
        _requests = Meter.CreateCounter<long>("taggateway.capi.delivery.requests", "{request}", "Delivery requests, by destination and outcome.");
        _duration = Meter.CreateHistogram<double>("taggateway.capi.delivery.duration", "s", "Delivery request duration including retries, by destination.");
        _unauthorized = Meter.CreateCounter<long>("taggateway.capi.ingest.unauthorized", "{request}", "POST /capi/v1/events refused for a missing or wrong API key (logged at most once a minute).");
        _tokenRefreshes = Meter.CreateCounter<long>("taggateway.capi.oauth.refreshes", "{request}", "OAuth access-token refreshes, by destination and outcome (ok, refused, failed, redirect).");
        _gapFill = Meter.CreateCounter<long>("taggateway.capi.gap_fill.events", "{event}", "Google Analytics gap-fill, by outcome (sent, cancelled_by_browser, late_browser_twin, dropped_stale).");
        _dedupEvicted = Meter.CreateCounter<long>("taggateway.capi.dedup.evicted", "{key}", "Unexpired dedup keys evicted to keep the ledger within Capi:Store:LedgerMaxBytes (each shortens the dedup window).");
        _identityKeys = Meter.CreateCounter<long>("taggateway.capi.identity.keys", "{event}", "Delivered events carrying an identity key, by destination and key.");
    }

    public Meter Meter { get; }

    public void Accepted(string origin, int count = 1) => _accepted.Add(count, new KeyValuePair<string, object?>("origin", origin));

    public void Merged(CapiDestination d) => _merged.Add(1, Tag(d));

    public void Duplicate(CapiDestination d) => _duplicates.Add(1, Tag(d));

    public void Delivered(CapiDestination d, int count) => _delivered.Add(count, Tag(d));

    public void Dropped(CapiDestination d, string reason, int count = 1) =>
        _dropped.Add(count, Tag(d), new KeyValuePair<string, object?>("reason", reason));

    public void DroppedEverywhere(string reason, int count = 1) =>
        _dropped.Add(count, new KeyValuePair<string, object?>("destination", "all"), new KeyValuePair<string, object?>("reason", reason));

    public void DeadLettered(CapiDestination d, int count) => _deadLettered.Add(count, Tag(d));

    public void Request(CapiDestination d, string outcome, double seconds)
    {
        _requests.Add(1, Tag(d), new KeyValuePair<string, object?>("outcome", outcome));
        _duration.Record(seconds, Tag(d));
    }

    public void Unauthorized() => _unauthorized.Add(1);

    public void GapFill(string outcome, int count) => _gapFill.Add(count, new KeyValuePair<string, object?>("outcome", outcome));

    public void DedupEvicted(long count) => _dedupEvicted.Add(count);

    /// <summary>The journal's effective dedup window: DedupTtl, or less while evictions have shortened it.</summary>
    public void ObserveDedupWindow(Func<double> seconds) =>
        Meter.CreateObservableGauge("taggateway.capi.dedup.window", seconds, "s", "Age of the oldest dedup key the ledger still holds: Capi:DedupTtl unless the memory budget shortened it.");

    public void TokenRefresh(CapiDestination d, string outcome) =>
        _tokenRefreshes.Add(1, Tag(d), new KeyValuePair<string, object?>("outcome", outcome));

    public void IdentityKey(CapiDestination d, string key, int count) =>
        _identityKeys.Add(count, Tag(d), new KeyValuePair<string, object?>("key", key));

    private static KeyValuePair<string, object?> Tag(CapiDestination d) => new("destination", d.Name());
}
