namespace TagGateway.Capi.Delivery.TikTok;

// Events API 2.0 wire types (conversion-apis.md §2), snake_case.

internal sealed class TikTokRequest
{
    public string EventSource { get; set; } = "web";

    public string EventSourceId { get; set; } = string.Empty;

    public string? TestEventCode { get; set; }

    public List<TikTokEvent> Data { get; set; } = [];
}

internal sealed class TikTokEvent
{
    public string Event { get; set; } = string.Empty;

    public long EventTime { get; set; }

    public string EventId { get; set; } = string.Empty;

    public TikTokUser User { get; set; } = new();

    public TikTokPage? Page { get; set; }

    public TikTokProperties? Properties { get; set; }

    public bool? LimitedDataUse { get; set; }
}

internal sealed class TikTokUser
{
    public string? Email { get; set; }

    public string? Phone { get; set; }

    public string? ExternalId { get; set; }

    public string? Ttclid { get; set; }

    public string? Ttp { get; set; }

    public string? Ip { get; set; }

    public string? UserAgent { get; set; }
}

internal sealed class TikTokPage
{
    public string? Url { get; set; }

    public string? Referrer { get; set; }
}

internal sealed class TikTokProperties
{
    public decimal? Value { get; set; }

    public string? Currency { get; set; }

    public string? ContentType { get; set; }

    public List<TikTokContent>? Contents { get; set; }

    public string? OrderId { get; set; }
}

internal sealed class TikTokContent
{
    public string? ContentId { get; set; }

    public string? ContentName { get; set; }

    public decimal? Price { get; set; }

    public int? Quantity { get; set; }
}

internal sealed class TikTokResponse
{
    public int Code { get; set; }

    public string? Message { get; set; }

    public string? RequestId { get; set; }
}
