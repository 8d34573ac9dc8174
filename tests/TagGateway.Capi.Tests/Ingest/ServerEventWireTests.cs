using System.Text.Json;
using TagGateway.Capi.Ingest;

namespace TagGateway.Capi.Tests.Ingest;

/// <summary>The ingest payload's user object is read straight into the domain input.</summary>
public sealed class ServerEventWireTests
{
    [Fact]
    public void The_user_object_fills_the_domain_input_and_hit_only_fields_are_not_payload_fields()
    {
        var json = """
            {"events":[{"event_name":"purchase","user":{"email":"jane@example.com","phone":"+1 650 555 1212","date_of_birth":"19900102",
             "li_fat_id":"LI-1","fbclid":"FB-1","user_agent":"UA","ip":"203.0.113.1","email_hash":"gtag-only","phone_e164_hash":"gtag-only"}}]}
            """u8;
        var batch = JsonSerializer.Deserialize(json, CapiSnakeJsonContext.Default.ServerEventBatch);

        var user = Assert.Single(batch!.Events!).User!;
        Assert.Equal("jane@example.com", user.Email);
        Assert.Equal("+1 650 555 1212", user.Phone);
        Assert.Equal("19900102", user.DateOfBirth);
        Assert.Equal("LI-1", user.LiFatId);
        Assert.Equal("FB-1", user.Fbclid);
        Assert.Equal("UA", user.UserAgent);
        Assert.Equal("203.0.113.1", user.Ip);

        // gtag's already-hashed values come from hits only; a payload cannot smuggle a digest past normalisation.
        Assert.Null(user.EmailHash);
        Assert.Null(user.PhoneE164Hash);
    }
}
