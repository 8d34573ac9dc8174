using System.Globalization;
using Microsoft.Extensions.Options;
using TagGateway.Capi;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Ingest;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Hosting;
using TagGateway.Observability;

namespace TagGateway.LiveView;

/// <summary>
/// Green/amber/red lines with the fix for each, from what the last requests in the ring carried and what the host
/// already tracks (geolocation health, the CAPI counters). Grey means no request has told yet.
/// </summary>
internal sealed class SetupCheck
{
    private const string Green = "green";
    private const string Amber = "amber";
    private const string Red = "red";
    private const string Grey = "grey";

    private readonly LiveRecorder _recorder;
    private readonly GeolocationHealth _geolocation;
    private readonly PrometheusExporter _metrics;
    private readonly CapiHitSink _capi;
    private readonly IReadOnlyList<string> _capiDestinations;
    private readonly CapiDeliveryTimes _deliveries;
    private readonly TimeSpan _dedupTtl;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly MemoryBudget _memory;

    public SetupCheck(LiveRecorder recorder, GeolocationHealth geolocation, PrometheusExporter metrics, CapiHitSink capi, IOptions<CapiOptions> capiOptions, CapiDeliveryTimes deliveries, GatewayOptions options, TimeProvider time, MemoryBudget memory)
    {
        ArgumentNullException.ThrowIfNull(capiOptions);
        _recorder = recorder;
        _geolocation = geolocation;
        _metrics = metrics;
        _capi = capi;
        _capiDestinations = CapiStatus.ConfiguredDestinations(capiOptions.Value);
        _dedupTtl = capiOptions.Value.DedupTtl;
        _deliveries = deliveries;
        _options = options;
        _time = time;
        _memory = memory;
    }

    public SetupReport Run()
    {
        var records = new LiveRecord[_recorder.Capacity];
        var count = _recorder.CopyNewest(0, records);
        int visits = 0, trusted = 0, https = 0, siteHost = 0, geolocated = 0, scripts = 0, scriptsOk = 0, upstreamFailures = 0, hits = 0;
        foreach (ref readonly var record in records.AsSpan(0, count))
        {
            // Refusals carry nothing of the visitor; a CAPI ingest comes from the site's backend, not a browser.
            if (record.Route is LiveRoute.Refused or LiveRoute.CapiIngest)
            {
                continue;
            }

            visits++;
            trusted += (record.Client & LiveClientFlags.FromTrustedEdge) != 0 ? 1 : 0;
            https += (record.Client & LiveClientFlags.Https) != 0 ? 1 : 0;
            siteHost += (record.Client & LiveClientFlags.SiteHostKnown) != 0 ? 1 : 0;
            geolocated += (record.Client & LiveClientFlags.Geolocated) != 0 ? 1 : 0;
            upstreamFailures += record.Status >= 500 ? 1 : 0;
            if (record.Route == LiveRoute.Script)
            {
                scripts++;
                scriptsOk += record.Status is >= 200 and < 400 ? 1 : 0;
            }
            else
            {
                hits++;
            }
        }

        var edge = _options.ClientIdentity.Edge;
        var lines = new List<SetupLine>
        {
            visits == 0 ? Wait("trusted-edge", "Requests from a trusted edge")
            : trusted == visits ? new("trusted-edge", "Requests from a trusted edge", Green, $"{trusted} of {visits} recent requests came through the trusted {edge} edge.", null)
            : edge == EdgeKind.Direct ? new("trusted-edge", "Requests from a trusted edge", Amber, $"Gateway:ClientIdentity:Edge is Direct: {visits - trusted} of {visits} recent requests reached the gateway without an edge.", "Set Gateway:ClientIdentity:Edge to the CDN or proxy in front of the gateway (edge-config/ shows each).")
            : new("trusted-edge", "Requests from a trusted edge", Red, $"{visits - trusted} of {visits} recent requests did not come from the trusted {edge} edge: its headers were ignored.", "Add the edge's addresses to Gateway:ClientIdentity:TrustedProxies, or make Gateway:ClientIdentity:EdgeSecret match the edge's header."),

            Geolocation(visits, geolocated),

            visits == 0 ? Wait("https", "HTTPS seen by the visitor")
            : https == visits ? new("https", "HTTPS seen by the visitor", Green, $"All {visits} recent requests were HTTPS for the visitor: identifier cookies are Secure.", null)
            : new("https", "HTTPS seen by the visitor", Amber, $"{visits - https} of {visits} recent requests were plain HTTP for the visitor: their cookies are not Secure.", "Serve the site over HTTPS, and let the edge pass the visitor's scheme (X-Forwarded-Proto from a trusted edge)."),

            visits == 0 ? Wait("site-host", "Site host known (cookie domain, Safari's IP rule)")
            : siteHost == visits ? new("site-host", "Site host known (cookie domain, Safari's IP rule)", Green, "The measurement path is served on the site's own host: cookies get its domain and Safari keeps their lifetime.", null)
            : new("site-host", "Site host known (cookie domain, Safari's IP rule)", Amber, $"{visits - siteHost} of {visits} recent requests named no known site host: their cookies are host-only.", "List the site's hosts in Gateway:SiteHosts, and route the measurement path on the site's own host (not a subdomain on another IP), so Safari does not cap the cookies."),

            visits == 0 ? Wait("upstream", "Upstream reachable and scripts cached")
            : upstreamFailures > 0 ? new("upstream", "Upstream reachable and scripts cached", Red, $"{upstreamFailures} of {visits} recent requests failed upstream (5xx).", "Check that the gateway reaches Gateway:Upstreams (DNS, egress firewall, proxy).")
            : scripts > 0 && scriptsOk == scripts ? new("upstream", "Upstream reachable and scripts cached", Green, $"{scripts} recent script loads and {hits} hits answered; the script cache serves them.", null)
            : new("upstream", "Upstream reachable and scripts cached", scripts == 0 ? Grey : Amber, scripts == 0 ? $"{hits} hits answered; no script load seen yet." : $"{scripts - scriptsOk} of {scripts} recent script loads were refused.", scripts == 0 ? null : "Load the tag through the measurement path with a configured tag ID (Gateway:TagIds)."),

            Clock(),
            Capi(),
        };

        if (_capi.IsEnabled && DedupWindow() is { } shortened)
        {
            lines.Add(shortened);
        }

        if (_memory.IsOverCommitted)
        {
            lines.Add(new("memory", "Memory for the CAPI store", Red,
                $"The CAPI store's budgets ({MemoryBudget.MiB(_memory.CapiBytes)}: Capi:Store:MaxMemoryBytes plus Capi:Store:LedgerMaxBytes) are more than half of what the GC may use ({MemoryBudget.MiB(_memory.AvailableBytes)}). A burst of conversions can run the heap out; the gateway then exits to be restarted, and scripts and hits stop with it until it is back.",
                $"Give the process at least {MemoryBudget.MiB(2 * _memory.CapiBytes)} for the GC (a container limit of {MemoryBudget.MiB(2 * _memory.CapiBytes * 4 / 3)}), or lower the two budgets below {MemoryBudget.MiB(_memory.AvailableBytes / 2)} together."));
        }

        return new SetupReport(_time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture), count, lines);
    }

    private SetupLine Geolocation(int visits, int geolocated)
    {
        const string Title = "Visitor geolocation present";
        const string Consequence = "without it strict consent defaults apply to every visitor (an unknown region counts as the EEA does).";
        return _geolocation.State switch
        {
            GeolocationState.Present => new("geolocation", Title, Green, $"{geolocated} of {visits} recent requests carried the visitor's region: region consent defaults apply.", null),
            GeolocationState.Missing => new("geolocation", Title, Amber, $"Recent hits arrive without the visitor's location: {Consequence}",
                _options.ClientIdentity.Edge == EdgeKind.Direct
                    ? "Gateway:ClientIdentity:Edge is Direct, which supplies no location: set it to the edge in front of the gateway (Cloudflare, CloudflareWorker, GoogleLoadBalancer, ReverseProxy); edge-config/ shows how each passes the location."
                    : $"The {_options.ClientIdentity.Edge} edge sends no location headers, or its headers are not believed: see edge-config/ for this edge."),
            _ => Wait("geolocation", Title),
        };
    }

    /// <summary>The clock decides cookie lifetimes and CAPI event times; a date before this code was written is wrong.</summary>
    private SetupLine Clock()
    {
        var now = _time.GetUtcNow();
        return now.Year >= 2025
            ? new("clock", "Clock sane", Green, $"The gateway's clock reads {now:yyyy-MM-dd HH:mm} UTC.", null)
            : new("clock", "Clock sane", Red, $"The gateway's clock reads {now:yyyy-MM-dd}: cookie expiry and CAPI event times will be wrong.", "Synchronise the host's clock (NTP).");
    }

    private SetupLine Capi()
    {
        const string Title = "CAPI destinations";
        if (!_capi.IsEnabled)
        {
            return new("capi", Title, Grey, "The conversion-API module is off: no destination is configured.", "Configure Gateway:Capi destinations (Meta, TikTok, LinkedIn, Google Ads) to fan conversions out server-side.");
        }

        double deadLettered = 0;
        foreach (var sample in _metrics.Samples())
        {
            deadLettered += sample.Name == "taggateway_capi_events_dead_lettered_total" ? sample.Value : 0;
        }

        // Each configured destination with its last acknowledged delivery since start.
        var now = _time.GetUtcNow();
        var never = 0;
        var parts = new List<string>(_capiDestinations.Count);
        foreach (var destination in _capiDestinations)
        {
            var last = _deliveries.LastDelivery(destination);
            never += last is null ? 1 : 0;
            parts.Add(last is { } at
                ? $"{destination}: last delivery {at.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC ({Ago(now - at)} ago)"
                : $"{destination}: no delivery since start");
        }

        var detail = (parts.Count == 0 ? "No destination configured." : string.Join("; ", parts) + ".")
            + (deadLettered > 0 ? $" {deadLettered} events dead-lettered since start." : string.Empty);
        return deadLettered > 0
            ? new("capi", Title, Amber, detail, "See /capi/dead-letters on the management listener for the dead letters and the destinations' answers, then replay them.")
            : never == 0 && parts.Count > 0 ? new("capi", Title, Green, detail, null)
            : new("capi", Title, Grey, detail, "Send a conversion (a GA4 purchase hit, or POST /capi/v1/events) and watch for its delivery; /capi/store shows what is pending.");
    }

    /// <summary>Only when the journal's dedup ledger hit its memory budget and shortened the window (no line otherwise).</summary>
    private SetupLine? DedupWindow()
    {
        foreach (var sample in _metrics.Samples())
        {
            if (sample.Name == "taggateway_capi_dedup_window_seconds" && sample.Value < _dedupTtl.TotalSeconds - 1)
            {
                var window = TimeSpan.FromSeconds(sample.Value);
                return new("capi-dedup", "CAPI dedup window", Amber,
                    $"The dedup ledger reached its memory budget: repeats are recognised for {Ago(window)}, not the configured {Ago(_dedupTtl)}. An older repeat is sent again (the platforms dedup it by event id; GA gap-fill may count it twice).",
                    "Raise Capi:Store:LedgerMaxBytes (64 MiB holds about 1.4 million keys), or shorten Capi:DedupTtl to what it holds.");
            }
        }

        return null;
    }

    private static string Ago(TimeSpan elapsed) =>
        elapsed.TotalSeconds < 90 ? $"{Math.Max(0, (int)elapsed.TotalSeconds)} s"
        : elapsed.TotalMinutes < 90 ? $"{(int)elapsed.TotalMinutes} min"
        : $"{(int)elapsed.TotalHours} h";

    private static SetupLine Wait(string id, string title) => new(id, title, Grey, "No request through the public listener yet.", null);
}
