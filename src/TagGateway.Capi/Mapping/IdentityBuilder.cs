using TagGateway.Capi.Identity;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Mapping;

/// <summary>Turns raw identity into the stored form: every hashed key normalised and hashed once, shared by all platforms.</summary>
internal static class IdentityBuilder
{
    /// <param name="input">What arrived.</param>
    /// <param name="userData">Whether any destination may receive user data; when none may, nothing is hashed or kept.</param>
    /// <param name="identifiers">Whether any destination may receive identifiers (cookies).</param>
    /// <param name="eventMs">When the event happened, for an fbc built from an fbclid.</param>
    /// <param name="defaultCallingCode">Calling code for national phone numbers without a country.</param>
    /// <param name="now">For the date-of-birth range check.</param>
    /// <param name="regionCountry">The visitor's country from the edge (lower case), a hint for national phone numbers only.</param>
    public static IdentityData Build(UserInput input, bool userData, bool identifiers, long eventMs, string? defaultCallingCode, DateTimeOffset now, string? regionCountry = null)
    {
        var identity = new IdentityData();
        if (!userData && !identifiers)
        {
            return identity;
        }

        if (identifiers)
        {
            identity.Fbp = Clean(input.Fbp);
            identity.Ttp = Clean(input.Ttp);
            identity.LiFatId = Clean(input.LiFatId);
        }

        if (!userData)
        {
            return identity;
        }

        identity.Fbc = ClickIds.Fbc(Clean(input.Fbc), Clean(input.Fbclid), eventMs);
        identity.Ttclid = Clean(input.Ttclid);
        identity.Gclid = Clean(input.Gclid);
        identity.Gbraid = Clean(input.Gbraid);
        identity.Wbraid = Clean(input.Wbraid);
        identity.Ip = Clean(input.Ip);
        identity.UserAgent = Clean(input.UserAgent);

        identity.Country = IdentityNormalizer.Country(input.Country);
        var plainCountry = identity.Country is { Length: 2 } c ? c : null;
        identity.City = IdentityNormalizer.City(input.City);
        identity.State = IdentityNormalizer.State(input.State, plainCountry);
        identity.Zip = IdentityNormalizer.Zip(input.Zip, plainCountry);

        identity.Em = IdentityNormalizer.Email(input.Email) ?? input.EmailHash;
        identity.EmGoogle = IdentityNormalizer.EmailGoogle(input.Email) ?? input.EmailHash;
        (identity.Ph, identity.PhE164) = IdentityNormalizer.Phone(input.Phone, plainCountry ?? regionCountry, defaultCallingCode);
        identity.PhE164 ??= input.PhoneE164Hash;
        identity.Fn = IdentityNormalizer.Name(input.FirstName);
        identity.Ln = IdentityNormalizer.Name(input.LastName);
        identity.Db = IdentityNormalizer.DateOfBirth(input.DateOfBirth, now);
        identity.Ge = IdentityNormalizer.Gender(input.Gender);
        identity.ExternalId = IdentityNormalizer.ExternalId(input.ExternalId);
        return identity;
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
