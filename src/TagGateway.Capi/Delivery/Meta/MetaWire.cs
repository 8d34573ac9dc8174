namespace TagGateway.Capi.Delivery.Meta;

// Conversions API wire types (conversion-apis.md §1.2-1.3), snake_case through the source-generated context.

internal sealed class MetaRequest
{
    public List<MetaEvent> Data { get; set; } = [];

    public string? TestEventCode { get; set; }

    /// <summary>In the body rather than the query string, so no URL in any log carries it.</summary>
    public string? AccessToken { get; set; }

    public string? PartnerAgent { get; set; }
}

internal sealed class MetaEvent
{
    public string EventName { get; set; } = string.Empty;

    public long EventTime { get; set; }

    public string EventId { get; set; } = string.Empty;

    public string ActionSource { get; set; } = "website";

    public string? EventSourceUrl { get; set; }

    public MetaUserData UserData { get; set; } = new();

    public MetaCustomData? CustomData { get; set; }

    public List<string>? DataProcessingOptions { get; set; }

    public int? DataProcessingOptionsCountry { get; set; }

    public int? DataProcessingOptionsState { get; set; }
}

internal sealed class MetaUserData
{
    public string? Em { get; set; }

    public string? Ph { get; set; }

    public string? Fn { get; set; }

    public string? Ln { get; set; }

    public string? Db { get; set; }

    public string? Ge { get; set; }

    public string? Ct { get; set; }

    public string? St { get; set; }

    public string? Zp { get; set; }

    public string? Country { get; set; }

    public string? ExternalId { get; set; }

    public string? ClientIpAddress { get; set; }

    public string? ClientUserAgent { get; set; }

    public string? Fbc { get; set; }

    public string? Fbp { get; set; }
}

internal sealed class MetaCustomData
{
    public decimal? Value { get; set; }

    public string? Currency { get; set; }

    public string? OrderId { get; set; }

    public string? ContentType { get; set; }

    public List<string>? ContentIds { get; set; }

    public List<MetaContent>? Contents { get; set; }

    public int? NumItems { get; set; }
}

internal sealed class MetaContent
{
    public string? Id { get; set; }

    public int? Quantity { get; set; }

    public decimal? ItemPrice { get; set; }
}

/// <summary>Graph API error envelope (§1.5).</summary>
internal sealed class MetaErrorResponse
{
    public MetaError? Error { get; set; }
}

internal sealed class MetaError
{
    public string? Message { get; set; }

    public string? Type { get; set; }

    public int Code { get; set; }

    public int? ErrorSubcode { get; set; }

    public bool? IsTransient { get; set; }

    public string? FbtraceId { get; set; }
}
