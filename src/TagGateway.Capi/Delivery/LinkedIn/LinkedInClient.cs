using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi.Delivery.LinkedIn;

/// <summary>
/// LinkedIn Conversions API: POST {BaseUrl}/rest/conversionEvents as BATCH_CREATE (up to 5,000), OAuth bearer,
/// LinkedIn-Version and Rest.li 2.0.0 headers. Events map to conversion rules, not names.
/// </summary>
internal sealed class LinkedInClient : DestinationClient
{
    // LinkedIn's user ids: SHA256_EMAIL and li_fat_id only.
    private const IdentityKeys SentToLinkedIn = IdentityKeys.Email | IdentityKeys.BrowserId;

    private readonly LinkedInOptions _linkedIn;

    public LinkedInClient(IHttpClientFactory factory, LinkedInOptions options, string? accessToken, EventNameMap map, ILogger<LinkedInClient> logger)
        : base(CapiDestination.LinkedIn, factory, options, accessToken, map, logger)
    {
        _linkedIn = options;
    }

    public override ResponseClass Classify(HttpStatusCode status, ReadOnlySpan<byte> body, out string? error)
    {
        if (Is2xx(status))
        {
            error = null;
            return ResponseClass.Success;
        }

        string? message = null;
        try
        {
            message = body.IsEmpty ? null : JsonSerializer.Deserialize(body, CapiCamelJsonContext.Default.LinkedInError)?.Message;
        }
        catch (JsonException)
        {
            // Judged by status alone.
        }

        error = $"HTTP {StatusText(status)}{(message is null ? null : ": " + message)}";

        // §8: 429 and 5xx are retried; 422 and other 4xx are the payload's or the token's fault.
        return IsTransientStatus(status) ? ResponseClass.Retryable : ResponseClass.Fatal;
    }

    protected override IReadOnlyDictionary<long, (bool Retryable, string Error)>? PartialFailures(IReadOnlyList<CapiEvent> batch, ReadOnlySpan<byte> body)
    {
        LinkedInBatchResponse? response;
        try
        {
            response = body.IsEmpty ? null : JsonSerializer.Deserialize(body, CapiCamelJsonContext.Default.LinkedInBatchResponse);
        }
        catch (JsonException)
        {
            return null;
        }

        if (response?.Elements is not { } elements)
        {
            return null;
        }

        Dictionary<long, (bool, string)>? failed = null;
        for (var i = 0; i < elements.Count && i < batch.Count; i++)
        {
            var status = elements[i].Status;
            if (status is >= 200 and < 300)
            {
                continue;
            }

            var retryable = status == 429 || status >= 500;
            (failed ??= [])[batch[i].Seq] = (retryable, $"element status {status}: {elements[i].Error?.Message}");
        }

        return failed;
    }

    protected override HttpRequestMessage BuildRequest(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks)
    {
        var request = new LinkedInBatch();
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var consent = ConsentMask.Get(e.Consent, CapiDestination.LinkedIn);
            var userData = (consent & DestinationConsent.UserData) != 0;
            var identifiers = (consent & DestinationConsent.Identifiers) != 0;
            var user = new LinkedInUser();
            if (userData && e.Identity.Em is { } em)
            {
                user.UserIds.Add(new LinkedInUserId { IdType = "SHA256_EMAIL", IdValue = em });
            }

            if (identifiers && e.Identity.LiFatId is { } fat)
            {
                user.UserIds.Add(new LinkedInUserId { IdType = "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", IdValue = fat });
            }

            keyMasks[i] = MatchQualityTracker.KeysOf(CapiDestination.LinkedIn, e.Identity, userData, identifiers) & SentToLinkedIn;
            request.Elements.Add(new LinkedInConversionEvent
            {
                Conversion = Map.For(CapiDestination.LinkedIn, e.Name) ?? string.Empty,
                ConversionHappenedAt = e.TimeMs,
                ConversionValue = e.Value is { } value && e.Currency is { } currency ? new LinkedInValue { CurrencyCode = currency, Amount = Amount(value) } : null,
                EventId = e.EventId,
                User = user,
            });
        }

        var message = new HttpRequestMessage(HttpMethod.Post, "rest/conversionEvents") { Content = Json(request, CapiCamelJsonContext.Default.LinkedInBatch) };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        message.Headers.TryAddWithoutValidation("LinkedIn-Version", _linkedIn.Version);
        message.Headers.TryAddWithoutValidation("X-Restli-Protocol-Version", "2.0.0");
        message.Headers.TryAddWithoutValidation("X-RestLi-Method", "BATCH_CREATE");
        return message;
    }

    protected override string Describe(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks) =>
        $"rules [{string.Join(',', batch.Select(e => Map.For(CapiDestination.LinkedIn, e.Name)).Distinct())}], user ids [{KeyNames(keyMasks)}], Authorization [redacted]";
}
