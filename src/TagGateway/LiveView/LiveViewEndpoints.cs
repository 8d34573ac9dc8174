using System.Collections.Frozen;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Ingest;
using TagGateway.Observability;

namespace TagGateway.LiveView;

/// <summary>
/// The live view, setup check and signal-health report under <c>/ui/</c>: mapped on the management group, so they exist
/// on the management listener only (its own access rules apply). The page polls the JSON endpoints about once a second.
/// </summary>
internal static class LiveViewEndpoints
{
    /// <summary>At most this many entries per poll: the ring may be large, a poll stays small.</summary>
    private const int MaxEntriesPerPoll = 500;

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType)> Assets = new Dictionary<string, (byte[], string)>
    {
        ["index.html"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["app.js"] = (Read("app.js"), "text/javascript; charset=utf-8"),
        ["app.css"] = (Read("app.css"), "text/css; charset=utf-8"),
        ["report.html"] = (Read("report.html"), "text/html; charset=utf-8"),
        ["report.js"] = (Read("report.js"), "text/javascript; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static RouteGroupBuilder MapLiveView(this RouteGroupBuilder management)
    {
        ArgumentNullException.ThrowIfNull(management);
        var ui = management.MapGroup("/ui");
        // Routing matches /ui and /ui/ alike; the page links its assets absolutely, so either works.
        ui.MapGet("/", static (HttpContext context) => Asset(context, "index.html"));
        ui.MapGet("/{asset}", static (HttpContext context, string asset) => Asset(context, asset));

        ui.MapGet("/api/live", static (LiveRecorder recorder, HttpContext context, long? after, string? route, string? client) =>
        {
            NoStore(context);
            var records = new LiveRecord[Math.Min(recorder.Capacity, MaxEntriesPerPoll)];
            var count = recorder.CopyNewest(after ?? 0, records);
            var entries = new List<LiveEntry>(count);
            foreach (ref readonly var record in records.AsSpan(0, count))
            {
                if (route is { Length: > 0 } && !string.Equals(LiveViewModel.RouteName(record.Route), route, StringComparison.Ordinal))
                {
                    continue;
                }

                var entry = LiveViewModel.ToEntry(record, recorder);
                if (client is { Length: > 0 } && !string.Equals(entry.ClientId, client, StringComparison.Ordinal))
                {
                    continue;
                }

                entries.Add(entry);
            }

            return TypedResults.Json(new LivePage(recorder.Newest, recorder.Capacity, entries), LiveViewJsonContext.Default.LivePage);
        });

        ui.MapGet("/api/setup", static (SetupCheck check, HttpContext context) =>
        {
            NoStore(context);
            return TypedResults.Json(check.Run(), LiveViewJsonContext.Default.SetupReport);
        });

        ui.MapGet("/api/report", static (PrometheusExporter exporter, CapiDeliveryTimes deliveries, IOptions<CapiOptions> capi, TimeProvider time, HttpContext context, bool? download) =>
        {
            NoStore(context);
            var now = time.GetUtcNow();
            if (download is true)
            {
                context.Response.Headers.ContentDisposition = $"attachment; filename=\"taggateway-signal-health-{now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.json\"";
            }

            var report = SignalHealth.Build(exporter.Samples(), CapiStatus.ConfiguredDestinations(capi.Value), deliveries, now);
            return TypedResults.Json(report, LiveViewJsonContext.Default.SignalReport);
        });

        return ui;
    }

    private static IResult Asset(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.CacheControl = "no-cache";

        // The page runs its own script and styles only: nothing it shows can load or run anything else.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Bytes(asset.Body, asset.ContentType);
    }

    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";

    private static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"TagGateway.LiveView.{name}")
            ?? throw new InvalidOperationException($"Live view asset {name} is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
