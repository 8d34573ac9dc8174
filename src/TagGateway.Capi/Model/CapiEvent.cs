namespace TagGateway.Capi.Model;

/// <summary>Where an event came from.</summary>
internal enum EventOrigin
{
    Hit = 1,
    Server = 2,
}

/// <summary>
/// One conversion event as the module stores it: platform-neutral, identity already normalised and hashed (only the
/// low-sensitivity location fields stay plain, because Google wants postal code and country unhashed). Serialized
/// into the journal with the source-generated context.
/// </summary>
internal sealed class CapiEvent
{
    /// <summary>Store sequence number, assigned on acceptance.</summary>
    public long Seq { get; set; }

    public EventOrigin Origin { get; set; }

    /// <summary>The GA4 event name (purchase, add_to_cart …); mapped per platform when sent.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The dedup key: the site's event id, else the transaction id of a purchase, else derived from the hit.</summary>
    public string EventId { get; set; } = string.Empty;

    /// <summary>When it happened, Unix milliseconds.</summary>
    public long TimeMs { get; set; }

    /// <summary>When the gateway accepted it, Unix milliseconds.</summary>
    public long AcceptedMs { get; set; }

    /// <summary>Meta's action_source (website unless the backend says otherwise).</summary>
    public string ActionSource { get; set; } = "website";

    public string? PageUrl { get; set; }

    public string? Referrer { get; set; }

    public string? ClientId { get; set; }

    /// <summary>Google Analytics' client_id for a backend event: client_id, else the _ga cookie's id, else FPID.</summary>
    public string? GaClientId { get; set; }

    /// <summary>The site's user id (Google Analytics user_id).</summary>
    public string? UserId { get; set; }

    /// <summary>The GA4 session id when the backend knows it.</summary>
    public string? SessionId { get; set; }

    /// <summary>The visitor's ad_user_data and ad_personalization as given ("GRANTED"/"DENIED"; null: not given), for the Measurement Protocol's consent object.</summary>
    public string? AdUserData { get; set; }

    public string? AdPersonalization { get; set; }

    public string? TransactionId { get; set; }

    public string? Currency { get; set; }

    public decimal? Value { get; set; }

    public List<CapiItem>? Items { get; set; }

    /// <summary>The visitor's region (CC or CC-RR) used for the consent decision.</summary>
    public string? Region { get; set; }

    /// <summary>Destinations this event is (or was) for: one bit per <see cref="CapiDestination"/>.</summary>
    public int Destinations { get; set; }

    /// <summary>Consent per destination, four <see cref="DestinationConsent"/> bits each.</summary>
    public int Consent { get; set; }

    public IdentityData Identity { get; set; } = new();
}

internal sealed class CapiItem
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    public decimal? Price { get; set; }

    public int? Quantity { get; set; }
}
