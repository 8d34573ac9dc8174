using System.Diagnostics;
using TagGateway.Capi.Ingest;

namespace TagGateway.LiveView;

/// <summary>
/// Puts <c>POST /capi/v1/events</c> in the live view: the module tells each stored batch's fates (its
/// <see cref="ICapiIngestObserver"/> seam), and <see cref="Wrap"/>, around the ingest endpoint, records the request
/// once it is answered, refusals (401, 400, 413, 503) included.
/// </summary>
internal sealed class CapiIngestRecorder(LiveRecorder recorder) : ICapiIngestObserver
{
    private static readonly object ItemKey = new();

    public void OnIngested(HttpContext context, ReadOnlySpan<CapiIngestedEvent> events)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (recorder.IsEnabled)
        {
            context.Items[ItemKey] = events.ToArray();
        }
    }

    /// <summary>Wraps each ingest endpoint's delegate (a route group convention); a no-op when the UI is off.</summary>
    public static void Wrap(EndpointBuilder endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.RequestDelegate is not { } inner)
        {
            return;
        }

        endpoint.RequestDelegate = async context =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await inner(context);
            }
            finally
            {
                var events = context.Items.TryGetValue(ItemKey, out var stored) && stored is CapiIngestedEvent[] list ? list : [];
                context.RequestServices.GetRequiredService<LiveRecorder>().RecordCapiIngest(context, events, started);
            }
        };
    }
}
