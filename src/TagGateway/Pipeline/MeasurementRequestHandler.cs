using Microsoft.AspNetCore.Http.Features;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Consent.Wire;
using TagGateway.Forwarding;
using TagGateway.Hits;
using TagGateway.LiveView;
using TagGateway.Observability;
using TagGateway.Routing;
using TagGateway.Scripts;

namespace TagGateway.Pipeline;

/// <summary>
/// Everything the public listener answers. The raw request target is checked first; then only the measurement
/// path, the configured tag IDs and the configured upstreams pass. Anything else gets a 4xx and a log line.
/// </summary>
internal sealed partial class MeasurementRequestHandler
{
    private static readonly byte[] Ok = "ok"u8.ToArray();

    private readonly string _measurementPath;
    private readonly TagRegistry _tags;
    private readonly UpstreamResolver _upstreams;
    private readonly ClientInfoResolver _clients;
    private readonly EdgeDiagnostic _diagnostic;
    private readonly ScriptEndpoint _scripts;
    private readonly HitForwarder _forwarder;
    private readonly ForwardedHitObserver _observer;
    private readonly IConsentPolicy _consent;
    private readonly GatewayMetrics _metrics;
    private readonly LiveRecorder _live;
    private readonly ILogger<MeasurementRequestHandler> _logger;

    public MeasurementRequestHandler(GatewayOptions options, TagRegistry tags, UpstreamResolver upstreams, ClientInfoResolver clients, EdgeDiagnostic diagnostic, ScriptEndpoint scripts, HitForwarder forwarder, ForwardedHitObserver observer, IConsentPolicy consent, GatewayMetrics metrics, LiveRecorder live, ILogger<MeasurementRequestHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _measurementPath = options.MeasurementPath;
        _tags = tags;
        _upstreams = upstreams;
        _clients = clients;
        _diagnostic = diagnostic;
        _scripts = scripts;
        _forwarder = forwarder;
        _observer = observer;
        _consent = consent;
        _metrics = metrics;
        _live = live;
        _logger = logger;
    }

    /// <summary>Handles the request when it is under the measurement path; false (nothing written) when it is not.</summary>
    public bool TryHandle(HttpContext context, out Task handled)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        var verdict = RequestTarget.TryParse(rawTarget, _measurementPath, out var target);
        if (verdict == TargetVerdict.NotMeasurementPath)
        {
            handled = Task.CompletedTask;
            return false;
        }

        handled = verdict == TargetVerdict.Ok
            ? HandleAsync(context, target)
            : Refuse(context, StatusCodes.Status400BadRequest, verdict == TargetVerdict.NotOriginForm ? "not_origin_form" : "path_traversal");
        return true;
    }

    private Task HandleAsync(HttpContext context, RequestTarget target)
    {
        var method = context.Request.Method;
        var route = MeasurementRoutes.Classify(target.Rest, target.Query);
        if (route == MeasurementRoute.Health)
        {
            context.Response.ContentType = "text/plain";
            context.Response.Headers.CacheControl = "no-store";
            _metrics.RequestCompleted(MetricTags.Health, MetricTags.Ok);
            return context.Response.Body.WriteAsync(Ok).AsTask();
        }

        if (route == MeasurementRoute.Diagnostic)
        {
            // Unauthorised, it is any unknown path: the same 404 and text, and the token is not logged.
            return HttpMethods.IsGet(method) && _diagnostic.TryAnswer(context, out var answered)
                ? answered
                : Refuse(context, StatusCodes.Status404NotFound, "no_upstream_for_path");
        }

        var allowed = route == MeasurementRoute.Script
            ? HttpMethods.IsGet(method) || HttpMethods.IsHead(method)
            : HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsPost(method);
        if (!allowed)
        {
            context.Response.Headers.Allow = route == MeasurementRoute.Script ? "GET, HEAD" : "GET, HEAD, POST";
            return Refuse(context, StatusCodes.Status405MethodNotAllowed, "method");
        }

        return route == MeasurementRoute.Script ? HandleScript(context, target) : HandleHit(context, target);
    }

    /// <summary>
    /// Scripts only for the tags this site serves (configured, or named by a configured container), decided on the
    /// whole parameter set (one "id", spelled as Google spells it: <see cref="ScriptLoadQuery"/>).
    /// </summary>
    private Task HandleScript(HttpContext context, RequestTarget target)
    {
        var verdict = ScriptLoadQuery.Validate(target.Query, _tags, out var load);
        if (verdict != ScriptLoadVerdict.Ok)
        {
            return _scripts.RefuseAsync(context, verdict, target.Query, load);
        }

        if (!_upstreams.TryResolve(MeasurementRoute.Script, HitKind.Other, target.Path, target.Rest, target.Query, out var upstream))
        {
            return Refuse(context, StatusCodes.Status404NotFound, "no_upstream_for_path");
        }

        var client = _clients.Resolve(context);

        // A script load carries no consent signal of its own; the region's default is what the cookie rules see.
        var gpc = IsGlobalPrivacyControl(context);
        var consent = _consent.Decide(ConsentSignals.FromQuery(target.Query, gpc), client.CountryRegion);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var served = _scripts.HandleAsync(context, target, load, upstream, client, consent);

        // The live view keeps the configured ID's string (no copy of the query); a learned ID shows as none.
        _tags.TryGet(load.Id(target.Query), out var tag);
        if (served.IsCompletedSuccessfully)
        {
            _live.RecordScript(context, tag, client, consent, started);
            return served;
        }

        return RecordScriptAsync(served, context, tag, client, consent, started);
    }

    private async Task RecordScriptAsync(Task served, HttpContext context, string tag, ClientInfo client, ConsentDecision consent, long started)
    {
        await served;
        _live.RecordScript(context, tag, client, consent, started);
    }

    /// <summary>
    /// A hit: parsed once into a <see cref="HitRequest"/> (kind by protocol, destination, consent), refused only for a
    /// malformed or ambiguous destination ID, and otherwise forwarded, whatever path Google's tag chose.
    /// </summary>
    private Task HandleHit(HttpContext context, RequestTarget target)
    {
        var refusal = HitFacts.TryParse(target.Rest, target.Query, out var facts);
        if (refusal != HitRefusal.None)
        {
            return Refuse(context, StatusCodes.Status400BadRequest, RefusalReason(refusal));
        }

        if (!_upstreams.TryResolve(MeasurementRoute.Hit, facts.Kind, target.Path, target.Rest, target.Query, out var upstream))
        {
            return Refuse(context, StatusCodes.Status404NotFound, "no_upstream_for_path");
        }

        var client = _clients.Resolve(context);
        _metrics.Geolocation.Observe(client);
        var gpc = IsGlobalPrivacyControl(context);
        var signals = ConsentSignals.FromQuery(target.Query, gpc);
        var consent = _consent.Decide(signals, client.CountryRegion);
        _metrics.ConsentDecided(consent.RegionProfile, consent.Consent.Get(ConsentType.AnalyticsStorage).IsGranted, consent.Consent.Get(ConsentType.AdStorage).IsGranted);
        var hit = new HitRequest(facts, target.Query.ToString(), client, gpc, signals, consent);

        // User-provided data (enhanced conversions' em=…) never reaches Google when ad_user_data is denied.
        if (facts.HasUserData && !consent.For(ConsentDestination.GoogleAds).MayAttachUserData)
        {
            upstream = upstream with { Url = StripUserData(upstream.Url) };
            _metrics.UserDataStripped();
        }

        return ForwardHitAsync(context, hit, upstream);
    }

    private async Task ForwardHitAsync(HttpContext context, HitRequest hit, UpstreamTarget upstream)
    {
        using (hit)
        {
            var route = MetricTags.ForHit(hit.Kind);
            if (await _forwarder.ReadBodyAsync(context, hit, route) != ForwarderError.None)
            {
                return;
            }

            if (!hit.BodyBytes.IsEmpty && HitFacts.CheckBody(hit.BodyBytes) is var bodyRefusal and not HitRefusal.None)
            {
                await Refuse(context, StatusCodes.Status400BadRequest, RefusalReason(bodyRefusal));
                return;
            }

            // gtag puts em in the URL; a batched line may carry its own, and it is governed by that line's decision.
            if (hit.StripBodyUserData(_consent) > 0)
            {
                _metrics.UserDataStripped();
            }

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (await _forwarder.ForwardAsync(context, upstream, hit.Client, hit.Consent, route, hit) == ForwarderError.None)
            {
                _observer.OnForwarded(context, hit);
            }

            _live.RecordHit(context, hit, started);
        }
    }

    private static bool IsGlobalPrivacyControl(HttpContext context) =>
        context.Request.Headers["Sec-GPC"] is { Count: 1 } gpcHeader && ConsentSignals.IsGlobalPrivacyControl(gpcHeader[0]);

    private static string RefusalReason(HitRefusal refusal) => refusal switch
    {
        HitRefusal.MalformedDestinationId => "malformed_tag_id",
        _ => "ambiguous_tag_id",
    };

    /// <summary>The upstream URL without any <c>em</c> pair; the other pairs keep their order and encoding.</summary>
    private static string StripUserData(string url)
    {
        var question = url.IndexOf('?', StringComparison.Ordinal);
        var kept = new System.Text.StringBuilder(url.Length);
        kept.Append(url, 0, question + 1);
        var first = true;
        foreach (var pair in new QueryPairs<char>(url.AsSpan(question + 1)))
        {
            if (pair.NameIs("em"))
            {
                continue;
            }

            kept.Append(first ? "" : "&").Append(pair.Pair);
            first = false;
        }

        return first ? url[..question] : kept.ToString();
    }

    private Task Refuse(HttpContext context, int status, string reason)
    {
        Log.Refused(_logger, context.Request.Method, status, reason, context.Connection.RemoteIpAddress);
        _metrics.Rejected(reason);
        _live.RecordRefused(status, reason);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";

        // One plain-text line that says why (as script refusals do), from a fixed set: nothing of the request is echoed.
        // UTF-8 literals written into Kestrel's pipe: no allocation, and the host flushes when the request ends.
        var text = reason switch
        {
            "method" => "this method is not allowed here; the Allow header lists the ones that are\n"u8,
            "not_origin_form" => "the request target must be a path (origin form), not a URL\n"u8,
            "path_traversal" => "the path must not contain dot segments or encoded separators\n"u8,
            "no_upstream_for_path" => "this path under the measurement path is not a Google tag or measurement endpoint\n"u8,
            "malformed_tag_id" => "tid is not a Google tag ID (G-, GT-, GTM-, AW- or DC- and 4-16 upper-case letters or digits)\n"u8,
            "ambiguous_tag_id" => "a hit names its tag once: tid appears more than once, or is spelled so a decoder might read it as tid\n"u8,
            _ => "the request was refused\n"u8,
        };
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = text.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            System.Buffers.BuffersExtensions.Write(context.Response.BodyWriter, text);
        }

        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Refused {Method} with {StatusCode}: {Reason} (peer {Peer})")]
        public static partial void Refused(ILogger logger, string method, int statusCode, string reason, System.Net.IPAddress? peer);
    }
}
