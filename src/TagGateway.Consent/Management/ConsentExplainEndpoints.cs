using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Management;

/// <summary>The management endpoint that explains the consent decision for one hit. Map it on the management listener only.</summary>
public static partial class ConsentExplainEndpoints
{
    private const int MaxBodyBytes = 256 * 1024;
    private const int MaxRegionLength = 16;
    private const string LogCategory = "TagGateway.Consent.Management.ConsentExplainEndpoints";

    /// <summary>
    /// Maps <c>GET /consent/explain?url=…&amp;region=DE&amp;gpc=1</c> and <c>POST /consent/explain</c> (JSON
    /// <c>{"url","body","region","gpc"}</c>, or the raw hit body as text with <c>?url=…&amp;region=…</c>). Without gpc, the
    /// request's own <c>Sec-GPC</c> header counts. Answers the decoded signals, the effective consent and the
    /// per-destination decision for each event line.
    /// </summary>
    public static IEndpointConventionBuilder MapConsentExplain(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/consent");
        group.MapGet("/explain", ExplainFromQuery).WithName("ConsentExplainGet");
        group.MapPost("/explain", ExplainFromBodyAsync).WithName("ConsentExplainPost");
        return group;
    }

    internal static Results<Ok<ExplainResponse>, BadRequest<ExplainError>> ExplainFromQuery(
        [FromQuery] string? url,
        [FromQuery] string? region,
        [FromQuery] string? gpc,
        HttpContext context,
        [FromServices] IConsentPolicy policy,
        [FromServices] ILoggerFactory loggerFactory)
    {
        return Explain(context, policy, loggerFactory, url, body: null, region, ParseGpc(gpc));
    }

    internal static async Task<Results<Ok<ExplainResponse>, BadRequest<ExplainError>>> ExplainFromBodyAsync(
        HttpContext context,
        [FromServices] IConsentPolicy policy,
        [FromServices] ILoggerFactory loggerFactory)
    {
        var request = context.Request;
        var text = await ReadBodyAsync(request.BodyReader, context.RequestAborted);
        if (text is null)
        {
            return TypedResults.BadRequest(new ExplainError { Error = $"The request body is larger than {MaxBodyBytes} bytes." });
        }

        if (request.HasJsonContentType())
        {
            ExplainRequest? explain;
            try
            {
                explain = JsonSerializer.Deserialize(text, ConsentJsonContext.Default.ExplainRequest);
            }
            catch (JsonException)
            {
                return TypedResults.BadRequest(new ExplainError { Error = "The body is not a valid explain request: {\"url\":\"…\",\"body\":\"…\",\"region\":\"DE\",\"gpc\":false}." });
            }

            return Explain(context, policy, loggerFactory, explain?.Url, explain?.Body, explain?.Region, explain?.Gpc);
        }

        // Anything else is the raw hit body, as copied from the browser's network panel.
        return Explain(context, policy, loggerFactory, request.Query["url"], text, request.Query["region"], ParseGpc(request.Query["gpc"]));
    }

    private static Results<Ok<ExplainResponse>, BadRequest<ExplainError>> Explain(
        HttpContext context, IConsentPolicy policy, ILoggerFactory loggerFactory, string? url, string? body, string? region, bool? gpc)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return TypedResults.BadRequest(new ExplainError { Error = "A collect URL (or its query string) is required in 'url'." });
        }

        region = region?.Trim() ?? string.Empty;
        if (region.Length > MaxRegionLength)
        {
            return TypedResults.BadRequest(new ExplainError { Error = "'region' is an ISO country code such as DE, optionally with a subdivision such as US-CA." });
        }

        if (ConsentExplainer.CountEvents(body) > ConsentExplainer.MaxEvents)
        {
            return TypedResults.BadRequest(new ExplainError { Error = $"At most {ConsentExplainer.MaxEvents} event lines can be explained at once." });
        }

        var effectiveGpc = gpc ?? ConsentSignals.IsGlobalPrivacyControl(context.Request.Headers["Sec-GPC"].ToString());
        var response = ConsentExplainer.Explain(policy, url, body, region, effectiveGpc);
        var logger = loggerFactory.CreateLogger(LogCategory);
        Log.Explained(logger, response.Events.Count, region, effectiveGpc);
        return TypedResults.Ok(response);
    }

    private static bool? ParseGpc(string? value) => value?.Trim() switch
    {
        null or "" => null,
        "1" or "true" or "True" => true,
        _ => false,
    };

    /// <summary>Reads the body as UTF-8 text; null when it exceeds the limit.</summary>
    private static async Task<string?> ReadBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > MaxBodyBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var text = Encoding.UTF8.GetString(buffer);
                reader.AdvanceTo(buffer.End);
                return text;
            }

            // Keep everything and wait for more.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3201, Level = LogLevel.Debug, Message = "Explained a hit: {EventCount} events, region '{Region}', GPC {Gpc}.")]
        public static partial void Explained(ILogger logger, int eventCount, string region, bool gpc);
    }
}
