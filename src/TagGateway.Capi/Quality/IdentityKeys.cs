namespace TagGateway.Capi.Quality;

/// <summary>
/// The identity keys an event carried to a destination, one bit each. Bit i is <see cref="MatchQualityTracker.Keys"/>[i]
/// (name and weight), so the order here is the order there. What a platform's payload has no field for is masked
/// out by that platform's client.
/// </summary>
[Flags]
internal enum IdentityKeys
{
    None = 0,
    Email = 1 << 0,
    ClickId = 1 << 1,
    Phone = 1 << 2,
    ExternalId = 1 << 3,
    BrowserId = 1 << 4,
    Ip = 1 << 5,
    UserAgent = 1 << 6,
    DateOfBirth = 1 << 7,
    Country = 1 << 8,
    FirstName = 1 << 9,
    LastName = 1 << 10,
    City = 1 << 11,
    State = 1 << 12,
    Zip = 1 << 13,
    Gender = 1 << 14,
}
