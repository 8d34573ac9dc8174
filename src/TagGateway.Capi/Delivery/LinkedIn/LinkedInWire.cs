namespace TagGateway.Capi.Delivery.LinkedIn;

// Conversions API wire types (conversion-apis.md §3), camelCase.

internal sealed class LinkedInBatch
{
    public List<LinkedInConversionEvent> Elements { get; set; } = [];
}

internal sealed class LinkedInConversionEvent
{
    public string Conversion { get; set; } = string.Empty;

    public long ConversionHappenedAt { get; set; }

    public LinkedInValue? ConversionValue { get; set; }

    public string EventId { get; set; } = string.Empty;

    public LinkedInUser User { get; set; } = new();
}

internal sealed class LinkedInValue
{
    public string CurrencyCode { get; set; } = string.Empty;

    /// <summary>A string, as LinkedIn requires.</summary>
    public string Amount { get; set; } = string.Empty;
}

internal sealed class LinkedInUser
{
    /// <summary>Required, may be empty.</summary>
    public List<LinkedInUserId> UserIds { get; set; } = [];
}

internal sealed class LinkedInUserId
{
    public string IdType { get; set; } = string.Empty;

    public string IdValue { get; set; } = string.Empty;
}

internal sealed class LinkedInBatchResponse
{
    public List<LinkedInElementStatus>? Elements { get; set; }
}

internal sealed class LinkedInElementStatus
{
    public int Status { get; set; }

    public LinkedInError? Error { get; set; }
}

internal sealed class LinkedInError
{
    public string? Message { get; set; }

    public int? Status { get; set; }

    public string? Code { get; set; }
}
