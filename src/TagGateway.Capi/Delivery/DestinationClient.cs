using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
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
    public int[] KeyMasks { get; init; } = [];
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
    protected abstract HttpRequestMessage BuildRequest(IReadOnlyList<CapiEvent> batch, int[] keyMasks);

    /// <summary>A 2xx answer that may still refuse single events (LinkedIn's per-element statuses).</summary>
    protected virtual IReadOnlyDictionary<long, (bool Retryable, string Error)>? PartialFailures(IReadOnlyList<CapiEvent> batch, ReadOnlySpan<byte> body) => null;

    /// <summary>A redacted description of the payload for debug logs: counts and key names, never values or tokens.</summary>
    protected abstract string Describe(IReadOnlyList<CapiEvent> batch, int[] keyMasks);

    public async Task<DeliveryResult> SendAsync(IReadOnlyList<CapiEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int[] keyMasks = new int[batch.Count];
        using HttpRequestMessage request = BuildRequest(batch, keyMasks);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            string description = Describe(batch, keyMasks);
            Log.Payload(_logger, Destination, batch.Count, description);
        }

        HttpClient client = _factory.CreateClient(HttpClientName);
        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        ResponseClass kind = Classify(response.StatusCode, body, out string? error);
        TimeSpan? retryAfter = RetryAfterOf(response.Headers.RetryAfter);
        return kind switch
        {
            ResponseClass.Success when PartialFailures(batch, body) is { Count: > 0 } failed => new DeliveryResult(DeliveryOutcome.Partial, null, retryAfter, failed) { KeyMasks = keyMasks },
            ResponseClass.Success => new DeliveryResult(DeliveryOutcome.Delivered) { KeyMasks = keyMasks },
            ResponseClass.Retryable => new DeliveryResult(DeliveryOutcome.Retryable, error, retryAfter) { KeyMasks = keyMasks },
            _ => new DeliveryResult(DeliveryOutcome.Fatal, error) { KeyMasks = keyMasks },
        };
    }

    internal static TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    protected static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    /// <summary>A plain (normalised) value hashed for platforms that want it hashed; a stored digest passes through.</summary>
    protected static string? HashPlain(string? plain) => plain is null ? null : Sha256Hex.IsHash(plain) ? plain : Sha256Hex.Hash(plain);

    /// <summary>A plain value for platforms that want it plain; a digest cannot be un-hashed and is left out.</summary>
    protected static string? PlainOnly(string? plain) => plain is null || Sha256Hex.IsHash(plain) ? null : plain;

    protected static string Amount(decimal value) => value.ToString("0.##########", CultureInfo.InvariantCulture);

    protected static string StatusText(HttpStatusCode status) => ((int)status).ToString(CultureInfo.InvariantCulture);

    protected static string KeyNames(int[] keyMasks)
    {
        int union = 0;
        foreach (int mask in keyMasks)
        {
            union |= mask;
        }

        return string.Join(',', MatchQualityTracker.Keys.Where((_, i) => (union & (1 << i)) != 0).Select(static k => k.Key));
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
