using Microsoft.AspNetCore.Http.Features;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Forwarding;
using TagGateway.Observability;
using TagGateway.Scripts;

namespace TagGateway.Routing;

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
    private readonly ScriptEndpoint _scripts;
    private readonly HitForwarder _forwarder;
    private readonly CollectHitObserver _collectObserver;
    private readonly IConsentPolicy _consent;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<MeasurementRequestHandler> _logger;

    public MeasurementRequestHandler(GatewayOptions options, TagRegistry tags, UpstreamResolver upstreams, ClientInfoResolver clients, ScriptEndpoint scripts, HitForwarder forwarder, CollectHitObserver collectObserver, IConsentPolicy consent, GatewayMetrics metrics, ILogger<MeasurementRequestHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _measurementPath = options.MeasurementPath;
        _tags = tags;
        _upstreams = upstreams;
        _clients = clients;
        _scripts = scripts;
        _forwarder = forwarder;
        _collectObserver = collectObserver;
        _consent = consent;
        _metrics = metrics;
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

        var allowed = route == MeasurementRoute.Script
            ? HttpMethods.IsGet(method) || HttpMethods.IsHead(method)
            : HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsPost(method);
        if (!allowed)
        {
            context.Response.Headers.Allow = route == MeasurementRoute.Script ? "GET, HEAD" : "GET, HEAD, POST";
            return Refuse(context, StatusCodes.Status405MethodNotAllowed, "method");
        }

        // Scripts name their tag in "id", hits in "tid": only configured IDs pass, and only after a syntax check.
        if (route == MeasurementRoute.Script && !QueryParameters.TryGetValue(target.Query, "id", out _))
        {
            return Refuse(context, StatusCodes.Status400BadRequest, "missing_tag_id");
        }

        if (!TagParametersAllowed(target.Query, route == MeasurementRoute.Script ? "id" : "tid", out var reason))
        {
            return Refuse(context, reason == "unknown_tag_id" ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest, reason);
        }

        if (!_upstreams.TryResolve(route, target.Path, target.Rest, target.Query, out var upstream))
        {
            return Refuse(context, StatusCodes.Status404NotFound, "no_upstream_for_path");
        }

        var client = _clients.Resolve(context);
        _metrics.Geolocation.Observe(client);

        // One request-level decision (the URL's signals, else the region's default) governs this response's cookies.
        var gpc = context.Request.Headers["Sec-GPC"] is { Count: 1 } gpcHeader && ConsentSignals.IsGlobalPrivacyControl(gpcHeader[0]);
        var consent = _consent.Decide(ConsentSignals.FromQuery(target.Query, gpc), client.CountryRegion);

        // User-provided data (enhanced conversions' em=…) never reaches Google when ad_user_data is denied.
        if (route == MeasurementRoute.Hit && !consent.For(ConsentDestination.GoogleAds).MayAttachUserData && QueryParameters.TryGetValue(target.Query, "em", out _))
        {
            upstream = upstream with { Url = StripUserData(upstream.Url) };
            _metrics.UserDataStripped();
        }

        return route == MeasurementRoute.Script
            ? _scripts.HandleAsync(context, target, upstream, client, consent)
            : _forwarder.ForwardAsync(context, upstream, client, consent, MetricTags.Hit, CollectHitObserver.IsCollect(target.Rest) ? _collectObserver : null);
    }

    private static string StripUserData(string url)
    {
        var question = url.IndexOf('?', StringComparison.Ordinal);
        var query = QueryParameters.Without(url.AsSpan(question + 1), "em");
        return query.Length == 0 ? url[..question] : string.Concat(url.AsSpan(0, question + 1), query);
    }

    private bool TagParametersAllowed(ReadOnlySpan<char> query, string name, out string reason)
    {
        if (QueryParameters.TryGetValue(query, name, out var value))
        {
            if (!TagId.IsValid(value))
            {
                reason = "malformed_tag_id";
                return false;
            }

            if (!_tags.TryGet(value, out _))
            {
                reason = "unknown_tag_id";
                return false;
            }
        }

        reason = string.Empty;
        return true;
    }

    private Task Refuse(HttpContext context, int status, string reason)
    {
        LogRefused(context.Request.Method, status, reason, context.Connection.RemoteIpAddress);
        _metrics.Rejected(reason);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Refused {Method} with {StatusCode}: {Reason} (peer {Peer})")]
    private partial void LogRefused(string method, int statusCode, string reason, System.Net.IPAddress? peer);
}
