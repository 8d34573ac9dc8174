using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Delivery;
using TagGateway.Capi.Delivery.GoogleAnalytics;
using TagGateway.Capi.GapFill;
using TagGateway.Capi.Ingest;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;
using TagGateway.Capi.Storage;

namespace TagGateway.Capi.Management;

/// <summary>Dead letters, replay, match quality and store state, on the management listener only.</summary>
internal sealed class CapiManagementEndpoints
{
    private readonly ICapiStore _store;
    private readonly MatchQualityTracker _quality;
    private readonly EventFactory _factory;
    private readonly CapiOptions _options;
    private readonly CapiHitSink _sink;
    private readonly GapFillGate? _gapFill;
    private readonly IServiceProvider? _services;

    public CapiManagementEndpoints(ICapiStore store, MatchQualityTracker quality, EventFactory factory, CapiOptions options, CapiHitSink sink, GapFillGate? gapFill = null, IServiceProvider? services = null)
    {
        _gapFill = gapFill is { IsEnabled: true } ? gapFill : null;
        _services = services;
        _store = store;
        _quality = quality;
        _factory = factory;
        _options = options;
        _sink = sink;
    }

    private const string UnknownDestination = "Unknown destination; use meta, tiktok, linkedin, google_ads or google_analytics.";

    /// <summary>The optional ?destination= filter: absent is null (every destination); false for a name we do not know.</summary>
    private static bool TryGetDestination(HttpContext context, out CapiDestination? destination)
    {
        destination = null;
        if (context.Request.Query["destination"].ToString() is not { Length: > 0 } name)
        {
            return true;
        }

        if (!CapiDestinations.TryParse(name, out var parsed))
        {
            return false;
        }

        destination = parsed;
        return true;
    }

    /// <summary>GET /capi/dead-letters?destination=meta&amp;limit=100</summary>
    public async Task<Results<JsonHttpResult<DeadLetterList>, ContentHttpResult>> ListDeadLettersAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!TryGetDestination(context, out var destination))
        {
            return Problem(UnknownDestination);
        }

        var limit = int.TryParse(context.Request.Query["limit"], out var l) && l is > 0 and <= 10_000 ? l : 1000;
        var letters = await _store.DeadLettersAsync(destination, limit, context.RequestAborted);
        var list = new DeadLetterList { Count = letters.Count };
        foreach (var letter in letters)
        {
            list.DeadLetters.Add(new DeadLetterView
            {
                Id = letter.Seq,
                Destination = letter.Destination.Name(),
                EventName = letter.EventName ?? string.Empty,
                EventId = letter.EventId ?? string.Empty,
                EventTimeMs = letter.EventTimeMs,
                EventTime = TimeOrNull(letter.EventTimeMs),
                FailedAt = TimeOrNull(letter.FailedMs),
                Error = letter.Error ?? string.Empty,
            });
        }

        return Json(list, CapiJsonContext.Default.DeadLetterList);
    }

    /// <summary>Total: a stored time no date can hold (an event_time of year 11000) lists as null, never a 500.</summary>
    internal static DateTimeOffset? TimeOrNull(long ms) =>
        ms is >= -62_135_596_800_000 and <= 253_402_300_799_999 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>POST /capi/dead-letters/{id}/replay?destination=meta (all of the event's destinations without it).</summary>
    public async Task<Results<JsonHttpResult<ReplayResult>, ContentHttpResult>> ReplayAsync(HttpContext context, long id)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!TryGetDestination(context, out var destination))
        {
            return Problem(UnknownDestination);
        }

        var replayed = await _store.ReplayAsync(id, destination, context.RequestAborted);
        return Json(new ReplayResult { Id = id, Replayed = replayed }, CapiJsonContext.Default.ReplayResult, replayed > 0 ? StatusCodes.Status202Accepted : StatusCodes.Status404NotFound);
    }

    /// <summary>POST /capi/dead-letters/replay?destination=meta: every dead letter (of one destination).</summary>
    public async Task<Results<JsonHttpResult<ReplayResult>, ContentHttpResult>> ReplayAllAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // A mistyped destination must not widen the replay to every destination's dead letters.
        if (!TryGetDestination(context, out var destination))
        {
            return Problem(UnknownDestination);
        }

        var replayed = 0;
        var letters = await _store.DeadLettersAsync(destination, int.MaxValue, context.RequestAborted);
        foreach (var seq in letters.Select(static l => l.Seq).Distinct())
        {
            replayed += await _store.ReplayAsync(seq, destination, context.RequestAborted);
        }

        return Json(new ReplayResult { Id = 0, Replayed = replayed }, CapiJsonContext.Default.ReplayResult, StatusCodes.Status202Accepted);
    }

    /// <summary>GET /capi/match-quality</summary>
    public JsonHttpResult<MatchQualityReport> MatchQuality() =>
        Json(_quality.Report(_factory.Configured) with { GoogleAnalyticsGapFill = _gapFill?.Report() }, CapiJsonContext.Default.MatchQualityReport);

    /// <summary>
    /// POST /capi/google-analytics/validate: one sample purchase to Google's validation server (<c>/debug/mp/collect</c>,
    /// which answers validation messages instead of a silent 2xx), so an operator checks the secret and the payload
    /// before going live. 404 when Google Analytics is not configured.
    /// </summary>
    public async Task<Results<JsonHttpResult<MpValidationResult>, ContentHttpResult>> ValidateGoogleAnalyticsAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_services?.GetKeyedService<DestinationClient>(CapiDestination.GoogleAnalytics) is not GoogleAnalyticsClient client)
        {
            return Text("Google Analytics is not configured (Capi:GoogleAnalytics:MeasurementId and ApiSecret).", StatusCodes.Status404NotFound);
        }

        MpValidationResult result;
        try
        {
            result = await client.ValidateAsync(_services.GetRequiredService<IHttpClientFactory>(), context.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException)
        {
            result = new MpValidationResult { Error = ex.GetType().Name + ": the validation server could not be reached" };
        }

        return Json(result, CapiJsonContext.Default.MpValidationResult, result.Valid ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity);
    }

    /// <summary>GET /capi/store</summary>
    public async Task<JsonHttpResult<StoreView>> StoreAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stats = await _store.StatisticsAsync(context.RequestAborted);
        var view = new StoreView
        {
            Bytes = stats.Bytes,
            MaxBytes = _options.Store.MaxBytes,
            Segments = stats.Segments,
            Events = stats.Events,
            LedgerKeys = stats.LedgerKeys,
            DeadLetters = stats.DeadLetters,
            HitsDropped = _sink.Dropped,
        };
        foreach (var d in _factory.Configured)
        {
            view.Pending[d.Name()] = stats.Pending[(int)d];
        }

        return Json(view, CapiJsonContext.Default.StoreView);
    }

    private static ContentHttpResult Problem(string message) => Text(message, StatusCodes.Status400BadRequest);

    /// <summary>The operator reads these in a terminal: plain text, not a JSON string.</summary>
    private static ContentHttpResult Text(string message, int status) => TypedResults.Text(message, statusCode: status);

    private static JsonHttpResult<T> Json<T>(T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK) =>
        TypedResults.Json(value, type, statusCode: status);
}
