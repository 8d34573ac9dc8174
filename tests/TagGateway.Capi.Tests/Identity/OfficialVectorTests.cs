using TagGateway.Capi.Identity;

namespace TagGateway.Capi.Tests.Identity;

/// <summary>Every SHA-256 vector of conversion-apis.md §9, through the normaliser the platform's payload uses.</summary>
public sealed class OfficialVectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("John_Smith@gmail.com", "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f")] // Meta em
    [InlineData("Person@Example.com", "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345")] // Snap em
    [InlineData("janedoe@gmail.com", "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69")] // TikTok email
    [InlineData("  John_Smith@GMAIL.com \t", "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f")] // trimmed, lower-cased
    public void Email_for_Meta_TikTok_and_LinkedIn_is_trimmed_and_lower_cased_only(string input, string expected) =>
        Assert.Equal(expected, IdentityNormalizer.Email(input));

    [Fact]
    public void Meta_email_keeps_gmail_dots_and_plus_which_only_Google_removes()
    {
        // The gmail rule is Google's alone: Meta's vector hashes the address with its underscore and case folded only.
        Assert.NotEqual(IdentityNormalizer.Email("john.smith+x@gmail.com"), IdentityNormalizer.EmailGoogle("john.smith+x@gmail.com"));
        Assert.Equal(IdentityNormalizer.Email("johnsmith@gmail.com"), IdentityNormalizer.EmailGoogle("john.smith+x@gmail.com"));
    }

    [Theory]
    [InlineData("(650)555-1212", "us", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176")] // Meta ph (US)
    [InlineData("+44 844 412 4653", null, "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383")] // Snap ph
    [InlineData("+37493828222", null, "65b7e6dcf6f4310f8d7cbfbd78289a753062fb054d6664fb9aaac5df66a422d4")] // TikTok customer file: digits, no '+'
    [InlineData("12345678901", "us", "254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4")] // Meta example payload
    [InlineData("0044 844 412 4653", null, "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383")] // 00 = international
    public void Phone_digits_with_country_code(string input, string? country, string expected) =>
        Assert.Equal(expected, IdentityNormalizer.Phone(input, country, null).Digits);

    [Theory]
    [InlineData("(800)555-0100", "us", "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30")] // Google DM
    [InlineData("+37493828222", null, "241371e614f8650dfae0f111361c69de1bb4829a72b71bb8044daae8b2e7791d")] // TikTok with '+' (contrast)
    [InlineData("800-555-0100", null, "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30")] // default calling code below
    public void Phone_E164_with_plus_for_Google_and_TikTok(string input, string? country, string expected) =>
        Assert.Equal(expected, IdentityNormalizer.Phone(input, country, country is null && !input.StartsWith('+') ? "1" : null).E164);

    [Fact]
    public void A_national_number_without_any_country_is_dropped_rather_than_guessed() =>
        Assert.Equal((null, null), IdentityNormalizer.Phone("(650)555-1212", null, null));

    [Theory]
    [InlineData("Mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec")]
    [InlineData("정", "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14")]
    [InlineData("Valéry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c")]
    [InlineData("Vale\u0301ry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c")] // decomposed é becomes precomposed (NFC)
    [InlineData(" MARY. ", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec")] // punctuation and blanks go
    public void Names_keep_accents_and_scripts(string input, string expected) =>
        Assert.Equal(expected, IdentityNormalizer.Name(input));

    [Theory]
    [InlineData("2/16/1997")]
    [InlineData("1997-02-16")]
    [InlineData("19970216")]
    [InlineData("16.02.1997")]
    public void Date_of_birth_becomes_YYYYMMDD(string input) =>
        Assert.Equal("01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c", IdentityNormalizer.DateOfBirth(input, Now));

    [Theory]
    [InlineData("2/30/1997")]
    [InlineData("1/1/1850")]
    [InlineData("tomorrow")]
    public void Impossible_dates_are_dropped(string input) => Assert.Null(IdentityNormalizer.DateOfBirth(input, Now));

    [Theory]
    [InlineData("United States", "us", "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621")]
    [InlineData("US", "us", "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621")]
    public void Country_is_the_lower_case_ISO_code_hashed_for_Meta(string input, string plain, string expected)
    {
        Assert.Equal(plain, IdentityNormalizer.Country(input));
        Assert.Equal(expected, Sha256Hex.Hash(IdentityNormalizer.Country(input)));
    }

    [Theory]
    [InlineData("f", "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111")]
    [InlineData("Female", "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111")]
    [InlineData("m", "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a")]
    [InlineData("MALE", "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a")]
    public void Gender_is_f_or_m(string input, string expected) => Assert.Equal(expected, IdentityNormalizer.Gender(input));

    [Theory]
    [InlineData("cloudy.sanfrancisco+shopping@gmail.com", "223ebda6f6889b1494551ba902d9d381daf2f642bae055888e96343d53e9f9c4")]
    [InlineData("user.name+NYC@Example.com", "f109a2a632fbcea5fc82049f50beed3d8621bf9034399f437fb622222acccdac")] // not gmail: dots and plus stay
    [InlineData(" cloudy.sanfrancisco+shopping @ googlemail.com ", null)] // googlemail too, inner blanks removed (different domain, so its own hash)
    public void Google_email_rules(string input, string? expected)
    {
        var actual = IdentityNormalizer.EmailGoogle(input);
        if (expected is null)
        {
            Assert.Equal(Sha256Hex.Hash("cloudysanfrancisco@googlemail.com"), actual);
        }
        else
        {
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [InlineData("McVUPBc00lxyBvX9WRUl0Clb7G_oT_gvlGo0_pcKHmY", "31c5543c1734d25c7206f5fd591525d0295bec6fe84ff82f946a34fe970a1e66")] // gtag em
    [InlineData("kQpiXEuhR7VE5r0vJn4TCuFMWRtrqcJcuFczIt7b69A", "910a625c4ba147b544e6bd2f267e130ae14c591b6ba9c25cb8573322dedbebd0")] // gtag pn
    public void Gtag_base64url_digests_become_hex(string base64Url, string hex)
    {
        Assert.Equal(hex, Sha256Hex.FromGtag(base64Url));
        Assert.Equal(hex, Sha256Hex.Hash(base64Url == "McVUPBc00lxyBvX9WRUl0Clb7G_oT_gvlGo0_pcKHmY" ? "example@example.com" : "+15555555555"));
    }

    [Fact]
    public void A_value_that_already_is_a_digest_passes_through_never_hashed_twice()
    {
        const string Digest = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F";
        var lower = Digest.ToLowerInvariant();
        Assert.Equal(lower, IdentityNormalizer.Email(Digest));
        Assert.Equal(lower, IdentityNormalizer.EmailGoogle(Digest));
        Assert.Equal((lower, lower), IdentityNormalizer.Phone(Digest, null, null));
        Assert.Equal(lower, IdentityNormalizer.Name(Digest));
        Assert.Equal(lower, IdentityNormalizer.ExternalId(Digest));
        Assert.Equal(lower, IdentityNormalizer.DateOfBirth(Digest, Now));
        Assert.Equal(lower, IdentityNormalizer.Gender(Digest));
    }

    [Theory]
    [InlineData("New York", "newyork")]
    [InlineData("St. Louis", "stlouis")]
    public void City_is_letters_only(string input, string expected) => Assert.Equal(expected, IdentityNormalizer.City(input));

    [Theory]
    [InlineData("California", "us", "ca")]
    [InlineData("CA", "us", "ca")]
    [InlineData("Bayern", "de", "bayern")]
    public void State_uses_the_US_code(string input, string country, string expected) => Assert.Equal(expected, IdentityNormalizer.State(input, country));

    [Theory]
    [InlineData("94045-1234", "us", "94045")]
    [InlineData("94045", null, "94045")]
    [InlineData("M1 1AE", "gb", "m11ae")]
    public void Zip_rules(string input, string? country, string expected) => Assert.Equal(expected, IdentityNormalizer.Zip(input, country));
}
