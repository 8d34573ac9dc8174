using System.Text.Json.Serialization;

namespace TagGateway.Capi.Mapping;

/// <summary>
/// Identity as it arrived (clear text or already hashed), before normalisation: filled from a server-to-server event's
/// user object (deserialised straight into this, snake_case) or from a hit's cookies, URL and gtag user data.
/// </summary>
internal sealed class UserInput
{
    public string? Email { get; set; }

    public string? Phone { get; set; }

    public string? FirstName { get; set; }

    public string? LastName { get; set; }

    public string? DateOfBirth { get; set; }

    public string? Gender { get; set; }

    public string? City { get; set; }

    public string? State { get; set; }

    public string? Zip { get; set; }

    public string? Country { get; set; }

    public string? ExternalId { get; set; }

    /// <summary>gtag's hashed email (em.), already hex: used for every platform as is. Hits only: not a payload field.</summary>
    [JsonIgnore]
    public string? EmailHash { get; set; }

    /// <summary>gtag's hashed phone (pn.): gtag hashes E.164 with '+', so it serves only Google and TikTok. Hits only.</summary>
    [JsonIgnore]
    public string? PhoneE164Hash { get; set; }

    public string? Fbp { get; set; }

    public string? Fbc { get; set; }

    public string? Fbclid { get; set; }

    public string? Ttp { get; set; }

    public string? Ttclid { get; set; }

    public string? LiFatId { get; set; }

    public string? Gclid { get; set; }

    public string? Gbraid { get; set; }

    public string? Wbraid { get; set; }

    public string? Ip { get; set; }

    public string? UserAgent { get; set; }
}
