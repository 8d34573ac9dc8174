using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Delivery.Http;
using TagGateway.Capi.Identity;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi.Delivery;

/// <summary>How a platform's answer is to be treated; shared by the resilience pipeline (retry or not) and the sender.</summary>
internal enum ResponseClass
{
    Success = 0,
    Retryable = 1,
    Fatal = 2,
}

internal enum DeliveryOutcome
{
    Delivered = 0,
    Retryable = 1,
    Fatal = 2,
    Partial = 3,
}

/// <summary>What became of one request. <see cref="Failed"/> lists the events a partial success refused (seq → retryable, error).</summary>
internal sealed record DeliveryResult(DeliveryOutcome Outcome, string? Error = null, TimeSpan? RetryAfter = null, IReadOnlyDictionary<long, (bool Retryable, string Error)>? Failed = null)
{
    public IdentityKeys[] KeyMasks { get; init; } = [];

    /// <summary>
    /// A fatal answer about the request as a whole (credentials, permissions, the configured path, a redirect), not
    /// about one of its events: splitting the batch would only repeat it, so the worker does not isolate events.
    /// </summary>
    public bool BatchWide { get; init; }
}

/// <summary>
/// One conversion API: builds the platform's payload from stored events (mapping, per-platform identity forms,
/// consent applied), sends it through the destination's resilient HttpClient and classifies the answer.
/// </summary>
internal abstract partial class DestinationClient
{
    private readonly IHttpClientFactory _factory;
    private readonly ILogger _logger;

    protected DestinationClient(CapiDestination destination, IHttpClientFactory factory, DestinationOptions options, string? accessToken, EventNameMap map, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Destination = destination;
        _factory = factory;
        Options = options;
        AccessToken = accessToken ?? string.Empty;
        Map = map;
        _logger = logger;
    }

    public CapiDestination Destination { get; }

    public int MaxBatch => Options.MaxBatchSize;

    public TimeSpan MaxAge => Options.MaxEventAge;

    public string HttpClientName => HttpClientNameOf(Destination);

    protected DestinationOptions Options { get; }

    /// <summary>Never logged.</summary>
    protected string AccessToken { get; }

    protected EventNameMap Map { get; }

    public static string HttpClientNameOf(CapiDestination destination) => "TagGateway.Capi." + destination.Name();

    /// <summary>Classifies a platform answer by status and body (Meta's error codes, TikTok's code on HTTP 200 …).</summary>
    public abstract ResponseClass Classify(HttpStatusCode status, ReadOnlySpan<byte> body, out string? error);

    /// <summary>Builds the request; <paramref name="keyMasks"/> receives, per event, the identity keys actually sent.</summary>
    protected abstract HttpRequestMessage BuildRequest(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks);

    /// <summary>A 2xx answer that may still refuse single events (LinkedIn's per-element statuses).</summary>
    protected virtual IReadOnlyDictionary<long, (bool Retryable, string Error)>? PartialFailures(IReadOnlyList<CapiEvent> batch, ReadOnlySpan<byte> body) => null;

    /// <summary>A redacted description of the payload for debug logs: counts and key names, never values or tokens.</summary>
    protected abstract string Describe(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks);

    public virtual async Task<DeliveryResult> SendAsync(IReadOnlyList<CapiEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var keyMasks = new IdentityKeys[batch.Count];
        using var request = BuildRequest(batch, keyMasks);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var description = Describe(batch, keyMasks);
            Log.Payload(_logger, Destination, batch.Count, description);
        }

        if (await AuthorizeAsync(request, rejected: null, cancellationToken) is { } authError)
        {
            return new DeliveryResult(DeliveryOutcome.Retryable, authError) { KeyMasks = keyMasks };
        }

        var client = _factory.CreateClient(HttpClientName);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        try
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized && CanRefreshCredentials)
            {
                // An access token that expired early or was revoked: one fresh token, the same batch once more.
                var rejected = request.Headers.Authorization?.Parameter;
                response.Dispose();
                using var again = BuildRequest(batch, keyMasks);
                if (await AuthorizeAsync(again, rejected, cancellationToken) is { } refreshError)
                {
                    return new DeliveryResult(DeliveryOutcome.Retryable, refreshError) { KeyMasks = keyMasks };
                }

                response = await client.SendAsync(again, HttpCompletionOption.ResponseContentRead, cancellationToken);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    // Refusing a token just minted is about the credentials, never the events: keep them.
                    return new DeliveryResult(DeliveryOutcome.Retryable, "HTTP 401 again with a freshly refreshed access token") { KeyMasks = keyMasks };
                }
            }

            return await ReadResultAsync(batch, keyMasks, response, cancellationToken);
        }
        finally
        {
            response.Dispose();
        }
    }

    private async Task<DeliveryResult> ReadResultAsync(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (OutboundHandlers.IsRedirect(response.StatusCode))
        {
            // Not followed (the primary handler never does): a platform API does not redirect a POST. The host only,
            // since a full Location may carry a token.
            var refused = $"HTTP {StatusText(response.StatusCode)} redirect to {OutboundHandlers.RedirectHost(response)} refused (never followed)";
            return new DeliveryResult(DeliveryOutcome.Fatal, refused) { KeyMasks = keyMasks, BatchWide = true };
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var kind = Classify(response.StatusCode, body, out var error);
        var retryAfter = RetryAfterOf(response.Headers.RetryAfter);
        return kind switch
        {
            ResponseClass.Success when PartialFailures(batch, body) is { Count: > 0 } failed => new DeliveryResult(DeliveryOutcome.Partial, null, retryAfter, failed) { KeyMasks = keyMasks },
            ResponseClass.Success => new DeliveryResult(DeliveryOutcome.Delivered) { KeyMasks = keyMasks },
            ResponseClass.Retryable => new DeliveryResult(DeliveryOutcome.Retryable, error, retryAfter) { KeyMasks = keyMasks },
            _ => new DeliveryResult(DeliveryOutcome.Fatal, error) { KeyMasks = keyMasks, BatchWide = IsBatchWide(response.StatusCode, body) },
        };
    }

    /// <summary>
    /// Whether the platform reports failures in a 2xx answer's body (TikTok's code on HTTP 200), so a 2xx is classified
    /// too; elsewhere a 2xx is a success and its body is not read by the resilience pipeline.
    /// </summary>
    protected virtual bool ReportsErrorsIn2xx => false;

    /// <summary>
    /// The resilience pipeline's question (retry, circuit breaker): is this answer a failure worth trying again? The
    /// body is buffered so the sender still reads it afterwards.
    /// </summary>
    internal async ValueTask<bool> IsRetryableAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (Is2xx(response.StatusCode) && !ReportsErrorsIn2xx)
        {
            return false;
        }

        await response.Content.LoadIntoBufferAsync();
        var body = await response.Content.ReadAsByteArrayAsync();
        return Classify(response.StatusCode, body, out _) == ResponseClass.Retryable;
    }

    /// <summary>Whether the destination refreshes its credentials itself (Google's OAuth refresh token): a 401 then means "refresh and retry once".</summary>
    protected virtual bool CanRefreshCredentials => false;

    /// <summary>
    /// Puts credentials on a request that does not carry them in its body (Google's OAuth bearer); a non-null
    /// answer is why it could not (the batch is kept and retried later). <paramref name="rejected"/> is the token the
    /// platform just refused, if any.
    /// </summary>
    protected virtual ValueTask<string?> AuthorizeAsync(HttpRequestMessage request, string? rejected, CancellationToken cancellationToken) =>
        ValueTask.FromResult<string?>(null);

    /// <summary>
    /// A fatal answer about the whole request rather than one event (see <see cref="DeliveryResult.BatchWide"/>).
    /// Status alone by default: 401, 403 and 404 are credentials, permission and path; platforms refine it by code.
    /// </summary>
    protected virtual bool IsBatchWide(HttpStatusCode status, ReadOnlySpan<byte> body) =>
        status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed;

    internal static TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    /// <summary>A request body in segments under the large object heap's threshold (see <see cref="SegmentedJsonContent"/>).</summary>
    protected static SegmentedJsonContent Json<T>(T value, JsonTypeInfo<T> typeInfo) => SegmentedJsonContent.Create(value, typeInfo);

    /// <summary>A plain (normalised) value hashed for platforms that want it hashed; a stored digest passes through.</summary>
    protected static string? HashPlain(string? plain) => plain is null ? null : Sha256Hex.IsHash(plain) ? plain : Sha256Hex.Hash(plain);

    /// <summary>A plain value for platforms that want it plain; a digest cannot be un-hashed and is left out.</summary>
    protected static string? PlainOnly(string? plain) => plain is null || Sha256Hex.IsHash(plain) ? null : plain;

    protected static string Amount(decimal value) => value.ToString("0.##########", CultureInfo.InvariantCulture);

    protected static string StatusText(HttpStatusCode status) => ((int)status).ToString(CultureInfo.InvariantCulture);

    protected static string KeyNames(IdentityKeys[] keyMasks)
    {
        var union = IdentityKeys.None;
        foreach (var mask in keyMasks)
        {
            union |= mask;
        }

        return string.Join(',', MatchQualityTracker.Keys.Where((_, i) => ((int)union & (1 << i)) != 0).Select(static k => k.Key));
    }

    [DebuggerStepThrough]
    protected static bool Is2xx(HttpStatusCode status) => (int)status is >= 200 and < 300;

    protected static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static partial class Log
    {
        [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "CAPI {Destination} payload: {Count} events; {Description}")]
        public static partial void Payload(ILogger logger, CapiDestination destination, int count, string description);
    }
}
