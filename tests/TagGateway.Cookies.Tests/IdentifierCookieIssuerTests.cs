using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Consent;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Cookies.Issuing;

namespace TagGateway.Cookies.Tests;

/// <summary>The issuer against a real consent policy: which Set-Cookie headers a response carries, attribute by attribute.</summary>
public sealed partial class IdentifierCookieIssuerTests
{
    private const string AllGranted = "v=2&tid=G-TEST1234&gcs=G111&gcd=13v3v3v3v5";
    private const string AllDenied = "v=2&tid=G-TEST1234&gcs=G100&gcd=13q3q3q3q5";
    private const string AnalyticsOnly = "v=2&tid=G-TEST1234&gcs=G101&gcd=13q3v3q3q5";
    private const string Jar = "session=s3cret; _ga=GA1.1.1162820436.1749482504; _ga_ABC123XYZ9=GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0; _gcl_au=1.1.1406894807.1642973586; _fbp=fb.1.1642973591141.184636131; _ttp=01KKAQSNJYHEXW22PHRM0RV1TA_.tt.2; li_fat_id=85929337-d448-42da-a095-0b3c5500fa50";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private (IdentifierCookieIssuer Issuer, IConsentPolicy Policy) Create(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_time);
        services.AddTagGatewayConsent(configuration);
        services.AddTagGatewayCookies(configuration);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IdentifierCookieIssuer>(), provider.GetRequiredService<IConsentPolicy>());
    }

    private static List<string> Apply(IdentifierCookieIssuer issuer, IConsentPolicy policy, string query, string cookies, string region = "US-CA", string host = "shop.example.co.uk", bool https = false, string? dl = null, params string[] upstreamSetCookies) =>
        Apply(issuer, policy, CookieOccasion.Hit, query, cookies, region, host, https, dl, upstreamSetCookies);

    private static List<string> Apply(IdentifierCookieIssuer issuer, IConsentPolicy policy, CookieOccasion occasion, string query, string cookies, string region = "US-CA", string host = "shop.example.co.uk", bool https = false, string? dl = null, params string[] upstreamSetCookies)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = cookies;
        foreach (var cookie in upstreamSetCookies)
        {
            context.Response.Headers.Append("Set-Cookie", cookie);
        }

        var decision = policy.Decide(ConsentSignals.FromQuery(query, globalPrivacyControl: false), region);
        issuer.Apply(context, decision, occasion, host, https, dl);
        return context.Response.Headers.SetCookie.Select(v => v!).Skip(upstreamSetCookies.Length).ToList();
    }

    private static string? Find(List<string> setCookies, string name) => setCookies.SingleOrDefault(c => c.StartsWith(name + "=", StringComparison.Ordinal));

    [Fact]
    public void Granted_visit_reissues_each_identifier_unchanged_with_long_lifetimes_on_the_registrable_domain()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AllGranted, Jar);

        Assert.Equal("_ga=GA1.1.1162820436.1749482504; Domain=example.co.uk; Path=/; Max-Age=34560000; SameSite=Lax", Find(written, "_ga"));
        Assert.Equal("_ga_ABC123XYZ9=GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0; Domain=example.co.uk; Path=/; Max-Age=34560000; SameSite=Lax", Find(written, "_ga_ABC123XYZ9"));
        Assert.Equal("_gcl_au=1.1.1406894807.1642973586; Domain=example.co.uk; Path=/; Max-Age=7776000; SameSite=Lax", Find(written, "_gcl_au"));
        Assert.Equal("_fbp=fb.1.1642973591141.184636131; Domain=example.co.uk; Path=/; Max-Age=7776000; SameSite=Lax", Find(written, "_fbp"));
        Assert.Equal("_ttp=01KKAQSNJYHEXW22PHRM0RV1TA_.tt.2; Domain=example.co.uk; Path=/; Max-Age=34128000; SameSite=Lax", Find(written, "_ttp"));
        Assert.Equal("li_fat_id=85929337-d448-42da-a095-0b3c5500fa50; Domain=example.co.uk; Path=/; Max-Age=2592000; SameSite=Lax", Find(written, "li_fat_id"));
        Assert.Null(Find(written, "session"));

        // Server-managed: HttpOnly copies of restorable cookies, the minted FPID, the refresh marker.
        Assert.Equal("tg_ga=GA1.1.1162820436.1749482504; Domain=example.co.uk; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax", Find(written, "tg_ga"));
        Assert.Equal("tg_fbp=fb.1.1642973591141.184636131; Domain=example.co.uk; Path=/; Max-Age=7776000; HttpOnly; SameSite=Lax", Find(written, "tg_fbp"));
        Assert.Matches("^FPID=FPID2\\.2\\.[A-Za-z0-9_-]{22}\\.1795953600; Domain=example\\.co\\.uk; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax$", Find(written, "FPID"));
        Assert.Equal("tg_ts=1795953600; Domain=example.co.uk; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax", Find(written, "tg_ts"));
    }

    [Fact]
    public void Https_visits_get_Secure_cookies()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AllGranted, Jar, https: true);

        Assert.All(written, c => Assert.Contains("; Secure", c, StringComparison.Ordinal));
    }

    [Fact]
    public void Steady_state_hit_within_the_refresh_interval_writes_nothing()
    {
        var (issuer, policy) = Create();
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var jar = $"{Jar}; tg_ga=GA1.1.1162820436.1749482504; tg_fbp=fb.1.1642973591141.184636131; FPID=FPID2.2.abc.1; tg_ts={now - 3600}";

        Assert.Empty(Apply(issuer, policy, AllGranted, jar));

        // A day later the same jar is refreshed again.
        _time.Advance(TimeSpan.FromDays(1));
        Assert.NotNull(Find(Apply(issuer, policy, AllGranted, jar), "_ga"));
    }

    [Fact]
    public void A_changed_value_updates_its_server_copy_even_within_the_interval()
    {
        var (issuer, policy) = Create();
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var jar = $"_ga=GA1.1.999.1749482504; tg_ga=GA1.1.1162820436.1749482504; FPID=FPID2.2.abc.1; tg_ts={now - 60}";

        var written = Apply(issuer, policy, AllGranted, jar);

        Assert.StartsWith("tg_ga=GA1.1.999.1749482504;", Find(written, "tg_ga"), StringComparison.Ordinal);
        Assert.Null(Find(written, "_ga"));
    }

    [Fact]
    public void Visible_cookie_wiped_by_the_browser_is_restored_from_its_server_copy()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AllGranted, "tg_ga=GA1.1.1162820436.1749482504; tg_fbp=fb.1.1642973591141.184636131; FPID=FPID2.2.abc.1");

        Assert.Equal("_ga=GA1.1.1162820436.1749482504; Domain=example.co.uk; Path=/; Max-Age=34560000; SameSite=Lax", Find(written, "_ga"));
        Assert.StartsWith("_fbp=fb.1.1642973591141.184636131;", Find(written, "_fbp"), StringComparison.Ordinal);
    }

    [Fact]
    public void An_identity_the_script_minted_after_a_wipe_yields_to_the_older_server_copy()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AllGranted, "_ga=GA1.1.999.1790000000; tg_ga=GA1.1.555.1700000000; _fbp=fb.1.1790000000000.7; tg_fbp=fb.1.1700000000000.3");

        Assert.StartsWith("_ga=GA1.1.555.1700000000;", Find(written, "_ga"), StringComparison.Ordinal);
        Assert.StartsWith("_fbp=fb.1.1700000000000.3;", Find(written, "_fbp"), StringComparison.Ordinal);
        Assert.StartsWith("tg_ga=GA1.1.555.1700000000;", Find(written, "tg_ga"), StringComparison.Ordinal);
    }

    [Fact]
    public void Consent_per_destination_analytics_granted_ads_denied()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AnalyticsOnly, Jar);

        Assert.NotNull(Find(written, "_ga"));
        Assert.NotNull(Find(written, "FPID"));
        foreach (var ad in new[] { "_gcl_au", "_fbp", "_ttp", "li_fat_id" })
        {
            // Explicitly denied: not refreshed, expired.
            Assert.Equal($"{ad}=; Domain=example.co.uk; Path=/; Max-Age=0; SameSite=Lax", Find(written, ad));
        }
    }

    [Fact]
    public void Withdrawal_expires_every_server_set_identifier()
    {
        var (issuer, policy) = Create();
        var jar = $"{Jar}; tg_ga=GA1.1.1162820436.1749482504; tg_fbp=fb.1.1642973591141.184636131; FPID=FPID2.2.abc.1; tg_ts=1";

        var written = Apply(issuer, policy, AllDenied, jar);

        foreach (var name in new[] { "_ga", "_ga_ABC123XYZ9", "_gcl_au", "_fbp", "_ttp", "li_fat_id", "tg_ga", "tg_fbp", "FPID", "tg_ts" })
        {
            Assert.Contains("Max-Age=0", Find(written, name) ?? $"{name} not expired", StringComparison.Ordinal);
        }

        Assert.DoesNotContain(written, c => !c.Contains("Max-Age=0", StringComparison.Ordinal));
    }

    [Fact]
    public void Denied_first_visit_writes_no_identifier_at_all()
    {
        var (issuer, policy) = Create();

        Assert.Empty(Apply(issuer, policy, AllDenied, "session=s3cret"));
    }

    [Theory]
    [InlineData("DE")]
    [InlineData("FR-IDF")]
    [InlineData("")]
    [InlineData("US-CA")]
    [InlineData("US")]
    public void Script_loads_neither_mint_nor_refresh_nor_expire_in_any_region(string region)
    {
        var (issuer, policy) = Create();
        var jar = $"{Jar}; tg_ga=GA1.1.1162820436.1749482504; FPID=FPID2.2.abc.1; tg_ts=1";

        // A script load carries no consent signal: even a decision that would allow identifiers (or withdraw them) writes nothing.
        Assert.Empty(Apply(issuer, policy, CookieOccasion.ScriptLoad, "id=G-TEST1234", jar, region));
        Assert.Empty(Apply(issuer, policy, CookieOccasion.ScriptLoad, "id=G-TEST1234", "session=1", region));
        Assert.Empty(Apply(issuer, policy, CookieOccasion.ScriptLoad, AllGranted, "session=1", region));
        Assert.Empty(Apply(issuer, policy, CookieOccasion.ScriptLoad, AllDenied, jar, region));
    }

    [Fact]
    public void A_hit_without_consent_mode_in_a_lenient_region_mints_and_refreshes_by_the_region_default()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, "v=2&tid=G-TEST1234&en=page_view", Jar, "US-CA");

        Assert.NotNull(Find(written, "_ga"));
        Assert.StartsWith("FPID=FPID2.2.", Find(written, "FPID"), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> NotAWithdrawal => new()
    {
        // Denied by default, no update yet: the first ping of a page for a returning visitor.
        { "v=2&tid=G-TEST1234&gcs=G100&gcd=13p3p3p3p5", "DE" },
        { "v=2&tid=G-TEST1234&gcs=G100&gcd=13p3p3p3p5", "US-CA" },
        { "v=2&tid=G-TEST1234&gcs=G100&gcd=11p1p1p1p5l1", "FR" },
        // Not set everywhere, resolved by a strict region default, or by no region at all.
        { "v=2&tid=G-TEST1234&gcd=13l3l3l3l1", "DE" },
        { "v=2&tid=G-TEST1234&gcd=13l3l3l3l1", "" },
        { "v=2&tid=G-TEST1234&gcs=G1--&gcd=13l3l3R3l5l1", "" },
        // gcs alone cannot tell a default from an update.
        { "v=2&tid=G-TEST1234&gcs=G100", "US" },
        // No signal in a strict region, and an unreadable gcd: denied, but nobody said no.
        { "v=2&tid=G-TEST1234&en=page_view", "DE" },
        { "v=2&tid=G-TEST1234&gcd=13%ZZ", "US" },
    };

    [Theory]
    [MemberData(nameof(NotAWithdrawal))]
    public void A_denial_the_visitor_did_not_make_leaves_every_identifier_untouched(string query, string region)
    {
        var (issuer, policy) = Create();
        var jar = $"{Jar}; tg_ga=GA1.1.1162820436.1749482504; tg_fbp=fb.1.1642973591141.184636131; FPID=FPID2.2.abc.1; tg_ts=1";

        Assert.Empty(Apply(issuer, policy, query, jar, region));
        Assert.Empty(Apply(issuer, policy, query, "tg_ga=GA1.1.1162820436.1749482504; tg_ts=1", region));
    }

    [Theory]
    [InlineData("13m3m3m3m5")]
    [InlineData("13q3q3q3q5")]
    [InlineData("13u3u3u3u5")]
    public void Every_update_to_denied_letter_withdraws_in_any_region(string gcd)
    {
        var (issuer, policy) = Create();
        var jar = $"{Jar}; tg_ga=GA1.1.1162820436.1749482504; FPID=FPID2.2.abc.1";

        foreach (var region in new[] { "DE", "US-CA", "" })
        {
            var written = Apply(issuer, policy, $"v=2&tid=G-TEST1234&gcd={gcd}", jar, region);
            foreach (var name in new[] { "_ga", "_ga_ABC123XYZ9", "_gcl_au", "_fbp", "tg_ga", "FPID" })
            {
                Assert.Contains("Max-Age=0", Find(written, name) ?? $"{name} not expired in '{region}'", StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void A_withdrawal_of_one_type_expires_only_what_that_type_governs()
    {
        var (issuer, policy) = Create();
        var jar = $"{Jar}; FPID=FPID2.2.abc.1";

        // ad_storage updated to denied, analytics_storage denied by default only: Google Analytics' identifiers stay as they are.
        var written = Apply(issuer, policy, "v=2&tid=G-TEST1234&gcs=G100&gcd=13q3p3q3q5", jar, "DE");

        Assert.Null(Find(written, "_ga"));
        Assert.Null(Find(written, "_ga_ABC123XYZ9"));
        Assert.Null(Find(written, "FPID"));
        foreach (var ad in new[] { "_gcl_au", "_fbp", "_ttp", "li_fat_id" })
        {
            Assert.Contains("Max-Age=0", Find(written, ad) ?? $"{ad} not expired", StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("_ga=GA1.1.abc.def")]
    [InlineData("_ga=GA1.1.1.2\"onload=alert(1)")]
    [InlineData("_fbp=<script>alert(1)</script>")]
    [InlineData("_gcl_au=1.1.1.1/../../x")]
    [InlineData("_ttp=a\\b")]
    public void Malformed_values_are_never_echoed(string cookie)
    {
        var (issuer, policy) = Create();
        var name = cookie[..cookie.IndexOf('=')];

        var written = Apply(issuer, policy, AllGranted, cookie);

        Assert.Null(Find(written, name));
    }

    [Fact]
    public void Click_ids_on_the_landing_page_become_platform_cookies_fbclid_byte_exact()
    {
        var (issuer, policy) = Create();
        var dl = Uri.EscapeDataString("https://shop.example.co.uk/p?utm_source=x&gclid=Cj0KCQiAw9qOBhC-ARIsAG_wcB&fbclid=IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk&ttclid=E.C.P.CvQBAAAAAAAAAAAAAA#top");

        var written = Apply(issuer, policy, AllGranted, "session=1", dl: dl);

        Assert.Equal("_gcl_aw=GCL.1795953600.Cj0KCQiAw9qOBhC-ARIsAG_wcB; Domain=example.co.uk; Path=/; Max-Age=7776000; SameSite=Lax", Find(written, "_gcl_aw"));
        Assert.Equal("_fbc=fb.1.1795953600000.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk; Domain=example.co.uk; Path=/; Max-Age=7776000; SameSite=Lax", Find(written, "_fbc"));
        Assert.Equal("ttclid=E.C.P.CvQBAAAAAAAAAAAAAA; Domain=example.co.uk; Path=/; Max-Age=2592000; SameSite=Lax", Find(written, "ttclid"));
    }

    [Fact]
    public void A_click_id_already_stored_is_not_rewritten_but_a_new_one_replaces_it()
    {
        var (issuer, policy) = Create();
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var jar = $"_fbc=fb.1.1700000000000.AbC123; FPID=FPID2.2.x.1; tg_ts={now}";

        Assert.Null(Find(Apply(issuer, policy, AllGranted, jar, dl: Uri.EscapeDataString("https://shop.example.co.uk/?fbclid=AbC123")), "_fbc"));
        Assert.EndsWith(".aBc123; Domain=example.co.uk; Path=/; Max-Age=7776000; SameSite=Lax", Find(Apply(issuer, policy, AllGranted, jar, dl: Uri.EscapeDataString("https://shop.example.co.uk/?fbclid=aBc123")), "_fbc"), StringComparison.Ordinal);
    }

    [Fact]
    public void Click_ids_need_their_platforms_consent()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AnalyticsOnly, "s=1", dl: Uri.EscapeDataString("https://shop.example.co.uk/?gclid=abc&fbclid=def"));

        Assert.Null(Find(written, "_gcl_aw"));
        Assert.Null(Find(written, "_fbc"));
    }

    [Fact]
    public void A_server_id_Google_issued_keeps_its_value_percent_encoding_included()
    {
        // sGTM and Google's gateway issue FPID as percent-encoded base64; refreshing must echo it, never mint another.
        var (issuer, policy) = Create();
        const string googleFpid = "FPID2.2.Y2BqZ0nUZQhDOeJH%2BnxaRfFgshyhI5IEOVN6Ym7aXRU%3D.1732867200";

        var written = Apply(issuer, policy, AllGranted, $"{Jar}; FPID={googleFpid}");

        Assert.Equal($"FPID={googleFpid}; Domain=example.co.uk; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax", Find(written, "FPID"));
    }

    [Fact]
    public void A_server_id_with_characters_a_cookie_cannot_carry_is_replaced()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AllGranted, $"{Jar}; FPID=back\\slash");

        Assert.Matches("^FPID=FPID2\\.2\\.[A-Za-z0-9_-]{22}\\.", Find(written, "FPID"));
    }

    [Fact]
    public void Cookies_Google_set_on_the_response_are_never_overridden()
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AllGranted, Jar, upstreamSetCookies: "FPID=from-google; Path=/; HttpOnly");

        Assert.Null(Find(written, "FPID"));
    }

    [Theory]
    [InlineData("127.0.0.1:8080")]
    [InlineData("localhost:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("co.uk")]
    public void Hosts_without_a_registrable_domain_get_host_only_cookies(string host)
    {
        var (issuer, policy) = Create();

        var written = Apply(issuer, policy, AllGranted, Jar, host: host);

        Assert.NotEmpty(written);
        Assert.All(written, c => Assert.DoesNotContain("Domain=", c, StringComparison.Ordinal));
    }

    [Fact]
    public void Configured_domain_overrides_the_public_suffix_list()
    {
        var (issuer, policy) = Create(("Cookies:Domain", "shop.example.co.uk"));

        Assert.Contains("; Domain=shop.example.co.uk;", Find(Apply(issuer, policy, AllGranted, Jar), "_ga"), StringComparison.Ordinal);
    }

    [Fact]
    public void Cookie_list_and_lifetimes_are_configuration()
    {
        var (issuer, policy) = Create(
            ("Cookies:Identifiers:_fbp:Enabled", "false"),
            ("Cookies:Identifiers:_ga:MaxAge", "30.00:00:00"),
            ("Cookies:Identifiers:_scid:Destination", "Meta"),
            ("Cookies:ServerIdName", ""));

        var written = Apply(issuer, policy, AllGranted, Jar + "; _scid=abc-123");

        Assert.Contains("Max-Age=2592000", Find(written, "_ga"), StringComparison.Ordinal);
        Assert.Null(Find(written, "_fbp"));
        Assert.NotNull(Find(written, "_scid"));
        Assert.Null(Find(written, "FPID"));
    }

    [Fact]
    public void Disabled_writes_nothing()
    {
        var (issuer, policy) = Create(("Cookies:Enabled", "false"));

        Assert.Empty(Apply(issuer, policy, AllGranted, Jar));
    }
}
