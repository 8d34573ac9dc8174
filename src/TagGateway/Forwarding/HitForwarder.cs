using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Cookies.Issuing;
using TagGateway.Hits;
using TagGateway.Observability;
using TagGateway.Routing;

namespace TagGateway.Forwarding;

/// <summary>
/// Streams one measurement request to its upstream and the answer back: query and body intact, Google cookies
/// only, the visitor's IP and location added as GTG adds them, every Set-Cookie relayed, redirects passed on.
/// </summary>
internal sealed partial class HitForwarder
{
    private readonly IHitUpstreamClient _client;
    private readonly IdentifierCookieIssuer _cookies;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<HitForwarder> _logger;
    private readonly TimeSpan _timeout;
    private readonly int _maxBody;
    private readonly bool _forwardClientIp;
    private readonly CancellationSourcePool _cancellationSources = new();

    public HitForwarder(IHitUpstreamClient client, GatewayOptions options, IdentifierCookieIssuer cookies, GatewayMetrics metrics, ILogger<HitForwarder> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _cookies = cookies;
        _metrics = metrics;
        _logger = logger;
        _timeout = options.Forwarding.ResponseTimeout;
        _maxBody = options.Forwarding.MaxBodyBytes;
        _forwardClientIp = options.ClientIdentity.ForwardClientIp;
    }

    /// <summary>Forwards the request; returns how it ended (the response is written either way).</summary>
    /// <param name="consent">The request's consent decision: which identifier cookies the response may carry.</param>
    /// <param name="hit">The parsed hit, whose body the handler already read and checked; null for a pass-through (a debug script load).</param>
    public async Task<ForwarderError> ForwardAsync(HttpContext context, UpstreamTarget target, ClientInfo client, ConsentDecision consent, string route, HitRequest? hit = null)
    {
        RequestBodyContent? content = null;
        if (hit is null)
        {
            (content, var bodyError) = await ReadPassThroughBodyAsync(context, route);
            if (bodyError != ForwarderError.None)
            {
                return bodyError;
            }
        }

        var request = new HitUpstreamRequest(target, client, _forwardClientIp, hit is null ? default : hit.BodyMemory, content);
        var cts = _cancellationSources.Rent(_timeout, context.RequestAborted);
        var started = Stopwatch.GetTimestamp();
        IUpstreamResponse? response = null;
        var bodyHandedOver = false;
        try
        {
            try
            {
                response = await _client.SendAsync(context, request, cts.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or BadHttpRequestException)
            {
                var error = ClassifySendFailure(ex, content, cts, context.RequestAborted);
                Log.UpstreamFailure(_logger, error, target.UrlForLog, FailureCause(ex), ex);
                return Reject(context, error, route);
            }

            _metrics.UpstreamResponded(route, Stopwatch.GetElapsedTime(started).TotalSeconds);
            IssueCookies(context, consent, client, hit);

            try
            {
                // From here the response ends its own exchange (frees or closes its connection), success or not.
                bodyHandedOver = true;
                await response.CopyBodyToAsync(context.Response, cts.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                if (context.RequestAborted.IsCancellationRequested)
                {
                    _metrics.RequestCompleted(route, MetricTags.ClientAborted);
                    return ForwarderError.ClientAborted;
                }

                // Headers may be out: a truncated body must not look complete, so the connection is aborted.
                Log.ResponseBodyFailed(_logger, target.UrlForLog, ex);
                _metrics.RequestCompleted(route, MetricTags.UpstreamError);
                context.Abort();
                return ForwarderError.ResponseBodyFailed;
            }

            _metrics.RequestCompleted(route, MetricTags.Ok);
            return ForwarderError.None;
        }
        finally
        {
            if (response is not null && !bodyHandedOver)
            {
                await response.DisposeAsync();
            }

            content?.Dispose();
            _cancellationSources.Return(cts);
        }
    }

    /// <summary>
    /// Reads a hit's body whole (at most the body limit) before anything reaches the upstream, so its lines can be
    /// checked and observed: 413 for too large, 400 for a broken one. GA4 bodies are a few hundred bytes.
    /// </summary>
    public async ValueTask<ForwarderError> ReadBodyAsync(HttpContext context, HitRequest hit, string route)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyFeature)
        {
            bodyFeature.MaxRequestBodySize = _maxBody;
        }

        if (request.ContentLength is { } declared && declared > _maxBody)
        {
            return Reject(context, ForwarderError.RequestBodyTooLarge, route);
        }

        if (request.ContentLength is 0 || (request.ContentLength is null && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true))
        {
            return ForwarderError.None;
        }

        try
        {
            var (buffer, length) = await RequestBodyContent.ReadPooledAsync(request.Body, _maxBody, context.RequestAborted);
            if (buffer is null)
            {
                return Reject(context, ForwarderError.RequestBodyTooLarge, route);
            }

            hit.SetBody(buffer, length);
            return ForwarderError.None;
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException or OperationCanceledException)
        {
            return Reject(context, context.RequestAborted.IsCancellationRequested ? ForwarderError.ClientAborted : ClassifyClientBodyError(ex), route);
        }
    }

    /// <summary>A pass-through's body: streamed when declared, else read into a pooled buffer up to the limit.</summary>
    private async ValueTask<(RequestBodyContent? Content, ForwarderError Error)> ReadPassThroughBodyAsync(HttpContext context, string route)
    {
        var request = context.Request;
        // Bodies are bounded before anything reaches the upstream.
        var bodyFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodyFeature is { IsReadOnly: false })
        {
            bodyFeature.MaxRequestBodySize = _maxBody;
        }

        RequestBodyContent? content = null;
        if (request.ContentLength is { } declared)
        {
            if (declared > _maxBody)
            {
                return (null, Reject(context, ForwarderError.RequestBodyTooLarge, route));
            }

            if (declared > 0)
            {
                content = RequestBodyContent.Streaming(request.Body, declared);
            }
        }
        else if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            try
            {
                var (buffered, tooLarge) = await RequestBodyContent.BufferAsync(request.Body, _maxBody, context.RequestAborted);
                if (tooLarge)
                {
                    return (null, Reject(context, ForwarderError.RequestBodyTooLarge, route));
                }

                content = buffered;
            }
            catch (Exception ex) when (ex is BadHttpRequestException or IOException or OperationCanceledException)
            {
                return (null, Reject(context, context.RequestAborted.IsCancellationRequested ? ForwarderError.ClientAborted : ClassifyClientBodyError(ex), route));
            }
        }

        return (content, ForwarderError.None);
    }

    /// <summary>Identifier cookies by HTTP header, after Google's own Set-Cookie so those are never overridden.</summary>
    /// <remarks>Preview and debug script loads are forwarded here too: as script loads they carry no consent signal and get no cookie.</remarks>
    private void IssueCookies(HttpContext context, in ConsentDecision consent, ClientInfo client, HitRequest? hit)
    {
        // A hit we cannot read (telemetry, a service worker, an opaque script path) carries no consent signal we
        // understand: like a script load, it writes no identifier.
        if (hit is null || hit.Kind == HitKind.Other)
        {
            _cookies.Apply(context, consent, CookieOccasion.ScriptLoad, client.SiteHost, client.IsHttps, pageUrl: []);
            return;
        }

        hit.IssuedCookieCount = _cookies.Apply(context, consent, CookieOccasion.Hit, client.SiteHost, client.IsHttps, hit.PageUrl, hit.IssuedCookies);
    }

    private static ForwarderError ClassifyClientBodyError(Exception ex) =>
        ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
            ? ForwarderError.RequestBodyTooLarge
            : ForwarderError.RequestBodyInvalid;

    private static ForwarderError ClassifySendFailure(Exception ex, RequestBodyContent? content, CancellationTokenSource cts, CancellationToken clientAborted)
    {
        if (clientAborted.IsCancellationRequested)
        {
            return ForwarderError.ClientAborted;
        }

        if (content?.ClientError is { } clientError)
        {
            return ClassifyClientBodyError(clientError);
        }

        return ex is OperationCanceledException && cts.IsCancellationRequested
            ? ForwarderError.UpstreamTimeout
            : ForwarderError.UpstreamUnavailable;
    }

    private ForwarderError Reject(HttpContext context, ForwarderError error, string route)
    {
        if (error == ForwarderError.ClientAborted)
        {
            _metrics.RequestCompleted(route, MetricTags.ClientAborted);
            return error;
        }

        var status = ForwarderErrors.ToStatusCode(error);
        _metrics.RequestCompleted(route, status switch
        {
            StatusCodes.Status504GatewayTimeout => MetricTags.UpstreamTimeout,
            >= 500 => MetricTags.UpstreamError,
            _ => MetricTags.ClientError,
        });

        if (status < 500)
        {
            Log.ClientBodyRejected(_logger, error, status);
        }

        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = status;
            context.Response.Headers.CacheControl = "no-store";
        }

        return error;
    }

    /// <summary>The socket's own error when there is one (connection refused, host unreachable, name not resolved), else the innermost message.</summary>
    internal static string FailureCause(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException socket)
            {
                return $"socket error {socket.SocketErrorCode} ({socket.ErrorCode}): {socket.Message}";
            }
        }

        return exception.GetBaseException().Message;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Upstream request to {Url} failed: {Error} ({Cause})")]
        public static partial void UpstreamFailure(ILogger logger, ForwarderError error, string url, string cause, Exception exception);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Upstream response body from {Url} failed after the response started; connection aborted")]
        public static partial void ResponseBodyFailed(ILogger logger, string url, Exception exception);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Hit refused: {Error}, answered {StatusCode}")]
        public static partial void ClientBodyRejected(ILogger logger, ForwarderError error, int statusCode);
    }
}
