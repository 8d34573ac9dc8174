using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi.Delivery.Meta;

/// <summary>Meta Conversions API: POST {BaseUrl}/{version}/{pixel}/events, up to 1,000 events, token in the body.</summary>
internal sealed class MetaClient : DestinationClient
{
    // §1.5: unknown/service errors, call limits and temporary blocks are retried; everything else is the payload's or token's fault.
    private static readonly HashSet<int> RetryableCodes = [1, 2, 4, 17, 341, 368];

    private readonly MetaOptions _meta;

    public MetaClient(IHttpClientFactory factory, MetaOptions options, string? accessToken, EventNameMap map, ILogger<MetaClient> logger)
        : base(CapiDestination.Meta, factory, options, accessToken, map, logger)
    {
        _meta = options;
    }

    public override ResponseClass Classify(HttpStatusCode status, ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        if (Is2xx(status))
        {
            return ResponseClass.Success;
        }

        MetaError? e = null;
        try
        {
            e = JsonSerializer.Deserialize(body, CapiSnakeJsonContext.Default.MetaErrorResponse)?.Error;
        }
        catch (JsonException)
        {
            // Not a Graph envelope (a proxy's page): judged by status alone.
        }

        error = e is null ? $"HTTP {StatusText(status)}" : $"HTTP {StatusText(status)}, code {e.Code}{(e.ErrorSubcode is { } sub ? "/" + sub : null)}: {e.Message}";
        if (e is not null)
        {
            return e.IsTransient == true || RetryableCodes.Contains(e.Code) ? ResponseClass.Retryable : ResponseClass.Fatal;
        }

        return IsTransientStatus(status) ? ResponseClass.Retryable : ResponseClass.Fatal;
    }

    /// <summary>Token (190, 102), permission (10, 200-299) and unknown-object (803; 100/33: a wrong pixel id) errors are about the request, not an event.</summary>
    protected override bool IsBatchWide(HttpStatusCode status, ReadOnlySpan<byte> body)
    {
        MetaError? e = null;
        try
        {
            e = body.IsEmpty ? null : JsonSerializer.Deserialize(body, CapiSnakeJsonContext.Default.MetaErrorResponse)?.Error;
        }
        catch (JsonException)
        {
            // Judged by status alone.
        }

        return e is null
            ? base.IsBatchWide(status, body)
            : e.Code is 190 or 102 or 10 or 803 or (>= 200 and <= 299) || (e.Code == 100 && e.ErrorSubcode == 33);
    }

    protected override HttpRequestMessage BuildRequest(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks)
    {
        var request = new MetaRequest { TestEventCode = _meta.TestEventCode, AccessToken = AccessToken };
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var consent = ConsentMask.Get(e.Consent, CapiDestination.Meta);
            var userData = (consent & DestinationConsent.UserData) != 0;
            var identifiers = (consent & DestinationConsent.Identifiers) != 0;
            var id = e.Identity;
            var user = new MetaUserData();
            if (userData)
            {
                user.Em = id.Em;
                user.Ph = id.Ph;
                user.Fn = id.Fn;
                user.Ln = id.Ln;
                user.Db = id.Db;
                user.Ge = id.Ge;
                user.Ct = HashPlain(id.City);
                user.St = HashPlain(id.State);
                user.Zp = HashPlain(id.Zip);
                user.Country = HashPlain(id.Country);
                user.ExternalId = id.ExternalId;
                user.ClientIpAddress = id.Ip;
                user.ClientUserAgent = id.UserAgent;
                user.Fbc = id.Fbc;
            }

            if (identifiers)
            {
                user.Fbp = id.Fbp;
            }

            keyMasks[i] = MatchQualityTracker.KeysOf(CapiDestination.Meta, id, userData, identifiers);
            var meta = new MetaEvent
            {
                EventName = Map.For(CapiDestination.Meta, e.Name) ?? e.Name,
                EventTime = e.TimeMs / 1000,
                EventId = e.EventId,
                ActionSource = e.ActionSource,
                EventSourceUrl = e.PageUrl,
                UserData = user,
                CustomData = CustomData(e),
            };

            if ((consent & DestinationConsent.Restricted) != 0 || _meta.AlwaysLimitedDataUse)
            {
                meta.DataProcessingOptions = ["LDU"];
                meta.DataProcessingOptionsCountry = _meta.LimitedDataUseCountry;
                meta.DataProcessingOptionsState = _meta.LimitedDataUseState;
            }

            request.Data.Add(meta);
        }

        return new HttpRequestMessage(HttpMethod.Post, $"{_meta.ApiVersion}/{_meta.PixelId}/events") { Content = Json(request, CapiSnakeJsonContext.Default.MetaRequest) };
    }

    protected override string Describe(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks) =>
        $"pixel {_meta.PixelId}, events [{string.Join(',', batch.Select(static e => e.Name).Distinct())}], user_data keys [{KeyNames(keyMasks)}], test code {(_meta.TestEventCode is null ? "none" : "set")}, access_token [redacted]";

    private static MetaCustomData? CustomData(CapiEvent e)
    {
        if (e.Value is null && e.Currency is null && e.TransactionId is null && e.Items is null)
        {
            return null;
        }

        var data = new MetaCustomData { Value = e.Value, Currency = e.Currency, OrderId = e.TransactionId };
        if (e.Items is { Count: > 0 } items)
        {
            data.ContentType = "product";
            data.Contents = [.. items.Select(static item => new MetaContent { Id = item.Id, Quantity = item.Quantity, ItemPrice = item.Price })];
            data.ContentIds = [.. items.Where(static item => item.Id is not null).Select(static item => item.Id!)];
            data.NumItems = items.Sum(static item => item.Quantity ?? 1);
        }

        return data;
    }
}
