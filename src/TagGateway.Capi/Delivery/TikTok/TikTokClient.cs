using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi.Delivery.TikTok;

/// <summary>TikTok Events API 2.0: POST {BaseUrl}/open_api/v1.3/event/track/ with the Access-Token header.</summary>
internal sealed class TikTokClient : DestinationClient
{
    /// <summary>TikTok's rate-limit code; 5xxxx codes are server-side. Its retry table is unconfirmed (§2), so only these are retried.</summary>
    internal const int RateLimitCode = 40100;

    // TikTok's official user object carries none of them (§2).
    private const IdentityKeys NotSentToTikTok = IdentityKeys.DateOfBirth | IdentityKeys.Country | IdentityKeys.FirstName | IdentityKeys.LastName
        | IdentityKeys.City | IdentityKeys.State | IdentityKeys.Zip | IdentityKeys.Gender;

    private readonly TikTokOptions _tiktok;

    public TikTokClient(IHttpClientFactory factory, TikTokOptions options, string? accessToken, EventNameMap map, ILogger<TikTokClient> logger)
        : base(CapiDestination.TikTok, factory, options, accessToken, map, logger)
    {
        _tiktok = options;
    }

    public override ResponseClass Classify(HttpStatusCode status, ReadOnlySpan<byte> body, out string? error)
    {
        TikTokResponse? response = null;
        try
        {
            response = body.IsEmpty ? null : JsonSerializer.Deserialize(body, CapiSnakeJsonContext.Default.TikTokResponse);
        }
        catch (JsonException)
        {
            // Judged by status alone.
        }

        if (!Is2xx(status))
        {
            error = $"HTTP {StatusText(status)}{(response is null ? null : $", code {response.Code}: {response.Message}")}";
            return IsTransientStatus(status) ? ResponseClass.Retryable : ResponseClass.Fatal;
        }

        if (response is null)
        {
            error = "HTTP 200 without a TikTok response body";
            return ResponseClass.Retryable;
        }

        // Success only when code == 0: TikTok reports errors with HTTP 200.
        error = response.Code == 0 ? null : $"code {response.Code}: {response.Message}";
        return response.Code == 0 ? ResponseClass.Success
            : response.Code == RateLimitCode || response.Code >= 50000 ? ResponseClass.Retryable
            : ResponseClass.Fatal;
    }

    /// <summary>TikTok answers HTTP 200 with a non-zero code for errors, rate limits included.</summary>
    protected override bool ReportsErrorsIn2xx => true;

    /// <summary>Permission (40001) and access-token (40104, 40105) codes are about the request, not an event.</summary>
    protected override bool IsBatchWide(HttpStatusCode status, ReadOnlySpan<byte> body)
    {
        if (!Is2xx(status))
        {
            return base.IsBatchWide(status, body);
        }

        try
        {
            return !body.IsEmpty && JsonSerializer.Deserialize(body, CapiSnakeJsonContext.Default.TikTokResponse)?.Code is 40001 or 40104 or 40105;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    protected override HttpRequestMessage BuildRequest(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks)
    {
        var request = new TikTokRequest { EventSourceId = _tiktok.PixelCode ?? string.Empty, TestEventCode = _tiktok.TestEventCode };
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var consent = ConsentMask.Get(e.Consent, CapiDestination.TikTok);
            var userData = (consent & DestinationConsent.UserData) != 0;
            var identifiers = (consent & DestinationConsent.Identifiers) != 0;
            var id = e.Identity;
            var user = new TikTokUser();
            if (userData)
            {
                user.Email = id.Em;
                user.Phone = _tiktok.PhoneFormat == PhoneHashFormat.E164 ? id.PhE164 : id.Ph;
                user.ExternalId = id.ExternalId;
                user.Ttclid = id.Ttclid;
                user.Ip = id.Ip;
                user.UserAgent = id.UserAgent;
            }

            if (identifiers)
            {
                user.Ttp = id.Ttp;
            }

            keyMasks[i] = MatchQualityTracker.KeysOf(CapiDestination.TikTok, id, userData, identifiers)
                & ~NotSentToTikTok;
            var tiktok = new TikTokEvent
            {
                Event = Map.For(CapiDestination.TikTok, e.Name) ?? e.Name,
                EventTime = e.TimeMs / 1000,
                EventId = e.EventId,
                User = user,
                Page = e.PageUrl is null && e.Referrer is null ? null : new TikTokPage { Url = e.PageUrl, Referrer = e.Referrer },
                LimitedDataUse = (consent & DestinationConsent.Restricted) != 0 ? true : null,
            };

            if (e.Value is not null || e.Currency is not null || e.Items is not null || e.TransactionId is not null)
            {
                tiktok.Properties = new TikTokProperties
                {
                    Value = e.Value,
                    Currency = e.Currency,
                    OrderId = e.TransactionId,
                    ContentType = e.Items is { Count: > 0 } ? "product" : null,
                    Contents = e.Items?.Select(static item => new TikTokContent { ContentId = item.Id, ContentName = item.Name, Price = item.Price, Quantity = item.Quantity }).ToList(),
                };
            }

            request.Data.Add(tiktok);
        }

        var message = new HttpRequestMessage(HttpMethod.Post, "open_api/v1.3/event/track/") { Content = Json(request, CapiSnakeJsonContext.Default.TikTokRequest) };
        message.Headers.TryAddWithoutValidation("Access-Token", AccessToken);
        return message;
    }

    protected override string Describe(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks) =>
        $"pixel {_tiktok.PixelCode}, events [{string.Join(',', batch.Select(static e => e.Name).Distinct())}], user keys [{KeyNames(keyMasks)}], Access-Token [redacted]";
}
