using TagGateway.Capi.Identity;
using TagGateway.Capi.Mapping;

namespace TagGateway.Benchmarks.Capi;

/// <summary>
/// Normalise + SHA-256 cost per event: a backend purchase with every identity field in clear (email, phone, names,
/// date of birth, gender, city, state, zip, country, external id) becomes the stored identity (ten hashed keys, the
/// Google email and E.164 phone variants included), and a browser hit's identity (cookies and click ids only).
/// </summary>
[MemoryDiagnoser]
public class IdentityHashBenchmarks
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    private readonly UserInput _full = new()
    {
        Email = "  Cloudy.SanFrancisco+shopping@GMAIL.com ",
        Phone = "(650) 555-1212",
        FirstName = "Valéry",
        LastName = "O'Brien-Smith",
        DateOfBirth = "2/16/1997",
        Gender = "Female",
        City = "San Francisco",
        State = "California",
        Zip = "94045-1234",
        Country = "United States",
        ExternalId = "CRM-000123456",
        Ip = "203.0.113.9",
        UserAgent = "Mozilla/5.0",
    };

    private readonly UserInput _browser = new()
    {
        Fbp = "fb.1.1642973591141.184636131",
        Fbclid = "IwAR0abcdefghijklmnop",
        Ttp = "01KKAQSNJYHEXW22PHRM0RV1TA_.tt.2",
        Gclid = "Cj0KCQiAw9qOBhC",
        Ip = "203.0.113.9",
        UserAgent = "Mozilla/5.0",
    };

    [Benchmark(Baseline = true)]
    public object FullBackendIdentity() => IdentityBuilder.Build(_full, userData: true, identifiers: true, 1_764_000_000_000, null, Now);

    [Benchmark]
    public object BrowserHitIdentity() => IdentityBuilder.Build(_browser, userData: true, identifiers: true, 1_764_000_000_000, null, Now);

    [Benchmark]
    public string OneEmail() => IdentityNormalizer.Email("  John_Smith@gmail.com ")!;
}
