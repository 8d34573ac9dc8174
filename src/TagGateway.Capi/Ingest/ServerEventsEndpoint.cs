using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Storage;

namespace TagGateway.Capi.Ingest;

/// <summary>
/// POST /capi/v1/events: the site's backend reports events with user data in clear or hashed. The key is compared in
/// constant time (SHA-256 of both sides, so length leaks nothing); the body is bounded; 202 comes only after the
/// events are fsync'd.
/// </summary>
internal sealed partial class ServerEventsEndpoint
{
    private readonly byte[][] _keyHashes;
    private readonly IngestOptions _options;
    private readonly EventFactory _factory;
    private readonly ICapiStore _store;
    private readonly CapiMetrics _metrics;
    private readonly ILogger<ServerEventsEndpoint> _logger;
    private readonly TimeProvider _time;
    private readonly LogThrottle _unauthorizedLog;

    public ServerEventsEndpoint(CapiOptions options, EventFactory factory, ICapiStore store, CapiMetrics metrics, TimeProvider time, ILogger<ServerEventsEndpoint> logger)
    {
        _time = time;
        _unauthorizedLog = new LogThrottle(time, TimeSpan.FromMinutes(1));
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Ingest;
        _keyHashes = [.. SecretReader.ApiKeys(options.Ingest).Select(static k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];
        _factory = factory;
        _store = store;
        _metrics = metrics;
        _logger = logger;
    }

    public bool IsEnabled => _keyHashes.Length > 0;

    public async Task<Results<JsonHttpResult<IngestResponse>, JsonHttpResult<ErrorBody>, NotFound>> HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        if (!IsEnabled)
        {
            return TypedResults.NotFound();
        }

        if (!Authenticated(context.Request))
        {
            // Anyone can send these: counted always, logged at most once a minute with the number left out.
            _metrics.Unauthorized();
            if (_unauthorizedLog.ShouldLog(out var suppressed))
            {
                Log.Unauthorized(_logger, context.Connection.RemoteIpAddress?.ToString(), suppressed);
            }

            response.Headers.WWWAuthenticate = "Bearer";
            return Error(StatusCodes.Status401Unauthorized, "A valid API key is required (Authorization: Bearer <key> or X-Api-Key).");
        }

        if (context.Request.ContentLength > _options.MaxRequestBytes)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, $"The body is larger than {_options.MaxRequestBytes} bytes.");
        }

        // The module's own bound applies here, not the host's (sized for hit bodies); the reader below enforces it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = _options.MaxRequestBytes + 1L;
        }

        byte[]? body;
        try
        {
            body = await ReadBoundedAsync(context.Request.Body, _options.MaxRequestBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own bound tripped first (a chunked body has no length to check up front): the same 413.
            body = null;
        }

        if (body is null)
        {
            Log.TooLarge(_logger, _options.MaxRequestBytes, context.Connection.RemoteIpAddress);
            return Error(StatusCodes.Status413PayloadTooLarge, $"The body is larger than {_options.MaxRequestBytes} bytes.");
        }

        ServerEventBatch? batch;
        try
        {
            batch = JsonSerializer.Deserialize(body, CapiSnakeJsonContext.Default.ServerEventBatch);
        }
        catch (JsonException ex)
        {
            return Error(StatusCodes.Status400BadRequest, $"Malformed JSON at {ex.Path ?? "$"} (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}): expected {{\"events\":[…]}}.");
        }

        if (batch?.Events is not { Count: > 0 } events)
        {
            return Error(StatusCodes.Status400BadRequest, "The body must be {\"events\":[…]} with at least one event.");
        }

        if (events.Count > _options.MaxEventsPerRequest)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, $"At most {_options.MaxEventsPerRequest} events per request.");
        }

        var now = _time.GetUtcNow();
        var built = new CapiEvent?[events.Count];
        var notSent = new bool[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is null)
            {
                return Error(StatusCodes.Status400BadRequest, $"events[{i}] is null.");
            }

            built[i] = _factory.FromServer(events[i], i, now, out var error, out notSent[i]);
            if (error is not null)
            {
                return Error(StatusCodes.Status400BadRequest, error);
            }
        }

        var toStore = new List<CapiEvent>(events.Count);
        for (var i = 0; i < built.Length; i++)
        {
            if (!notSent[i])
            {
                toStore.Add(built[i]!);
            }
        }

        var statuses = toStore.Count == 0 ? [] : await _store.AcceptAsync(toStore, durable: true, context.RequestAborted);
        if (statuses.Contains(AcceptStatus.StoreFull))
        {
            _metrics.DroppedEverywhere("store_full", statuses.Length);
            response.Headers.RetryAfter = "60";
            return Error(StatusCodes.Status503ServiceUnavailable, "The event store is full; retry later.");
        }

        var result = new IngestResponse();
        var next = 0;
        for (var i = 0; i < built.Length; i++)
        {
            var status = notSent[i] ? AcceptStatus.NoDestination : statuses[next++];
            switch (status)
            {
                case AcceptStatus.Accepted:
                    result.Accepted++;
                    break;
                case AcceptStatus.Merged:
                    result.Merged++;
                    break;
                case AcceptStatus.Duplicate:
                    result.Duplicates++;
                    break;
                default:
                    result.NotSent++;
                    break;
            }

            result.Events.Add(new IngestEventStatus { EventId = built[i]!.EventId, Status = Name(status) });
        }

        CapiIngestObservation.Notify(context, built, notSent, statuses);
        _metrics.Accepted("server", result.Accepted);
        return TypedResults.Json(result, CapiSnakeJsonContext.Default.IngestResponse, statusCode: StatusCodes.Status202Accepted);
    }

    private bool Authenticated(HttpRequest request)
    {
        string? presented = null;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }
        else if (request.Headers.TryGetValue("X-Api-Key", out var apiKey) && apiKey.Count == 1)
        {
            presented = apiKey[0];
        }

        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        var match = false;
        foreach (var key in _keyHashes)
        {
            // Every key is compared, each in constant time: neither timing nor position tells which one matched.
            match |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        return match;
    }

    private static async Task<byte[]?> ReadBoundedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 64 * 1024));
        try
        {
            var used = 0;
            while (true)
            {
                if (used == buffer.Length)
                {
                    if (buffer.Length > limit)
                    {
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, used).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(used), cancellationToken);
                if (read == 0)
                {
                    return used > limit ? null : buffer.AsSpan(0, used).ToArray();
                }

                used += read;
                if (used > limit)
                {
                    return null;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Name(AcceptStatus status) => status switch
    {
        AcceptStatus.Accepted => "accepted",
        AcceptStatus.Merged => "merged",
        AcceptStatus.Duplicate => "duplicate",
        _ => "not_sent",
    };

    private static JsonHttpResult<ErrorBody> Error(int status, string message) =>
        TypedResults.Json(new ErrorBody { Error = message }, CapiSnakeJsonContext.Default.ErrorBody, statusCode: status);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "CAPI ingest refused a request without a valid API key from {Remote} ({Suppressed} more in the last minute not logged; all are counted in taggateway.capi.ingest.unauthorized)")]
        public static partial void Unauthorized(ILogger logger, string? remote, long suppressed);

        [LoggerMessage(EventId = 5203, Level = LogLevel.Information, Message = "CAPI ingest refused a body over {Limit} bytes from {Remote} (413)")]
        public static partial void TooLarge(ILogger logger, int limit, System.Net.IPAddress? remote);
    }
}
