using System.Text;
using TagGateway.Capi.Mapping;

namespace TagGateway.Capi.Tests.Mapping;

public sealed class Ga4HitDecoderTests
{
    private static MeasurementHit Hit(string query, string body = "", string? cookie = null) =>
        new(query, Encoding.UTF8.GetBytes(body), "203.0.113.5", "UA/1.0", "US-CA", cookie, false, new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero));

    private static List<DecodedEvent> Decode(MeasurementHit hit)
    {
        var list = new List<DecodedEvent>();
        Ga4HitDecoder.Decode(hit, list);
        return list;
    }

    [Fact]
    public void Each_body_line_is_an_event_whose_parameters_override_the_urls()
    {
        var events = Decode(Hit(
            "v=2&tid=G-X&cid=1.2&_p=77&_s=4&cu=EUR&dl=https%3A%2F%2Fshop.example%2Fp",
            "en=view_item&pr1=idSKU_1~nmStan%20Tee~pr10.01~qt3\r\nen=add_to_cart&cu=USD&epn.value=20.02\r\n\r\n"));
        Assert.Equal(["view_item", "add_to_cart"], events.Select(static e => e.Name));
        Assert.Equal("EUR", events[0].Currency);
        Assert.Equal("USD", events[1].Currency);
        Assert.Equal(20.02m, events[1].Value);
        Assert.Equal("https://shop.example/p", events[1].PageUrl);
        var item = Assert.Single(events[0].Items!);
        Assert.Equal(("SKU_1", "Stan Tee", 10.01m, 3), (item.Id, item.Name, item.Price!.Value, item.Quantity!.Value));
    }

    [Fact]
    public void Event_id_is_the_sites_then_the_purchase_transaction_then_a_deterministic_derivation()
    {
        Assert.Equal("E1", Decode(Hit("en=purchase&ep.event_id=E1&ep.transaction_id=T1"))[0].EventId);
        Assert.Equal("T1", Decode(Hit("en=purchase&ep.transaction_id=T1"))[0].EventId);
        Assert.NotEqual("T1", Decode(Hit("en=add_to_cart&ep.transaction_id=T1"))[0].EventId);

        var a = Decode(Hit("cid=1.2&_p=77&_s=4&en=add_to_cart"))[0].EventId;
        var replayed = Decode(Hit("cid=1.2&_p=77&_s=4&en=add_to_cart"))[0].EventId;
        var nextHit = Decode(Hit("cid=1.2&_p=77&_s=5&en=add_to_cart"))[0].EventId;
        var otherVisitor = Decode(Hit("cid=9.9&_p=77&_s=4&en=add_to_cart"))[0].EventId;
        Assert.Equal(a, replayed);
        Assert.NotEqual(a, nextHit);
        Assert.NotEqual(a, otherVisitor);

        var twins = Decode(Hit("cid=1.2&_p=77&_s=6", "en=add_to_cart\nen=add_to_cart"));
        Assert.NotEqual(twins[0].EventId, twins[1].EventId);
    }

    [Fact]
    public void Cookies_click_ids_and_gtag_user_data_fill_the_identity()
    {
        var e = Decode(Hit(
            "en=purchase&dl=" + Uri.EscapeDataString("https://shop.example/?gclid=Cj0KCQ&ttclid=E.C.P.abc&fbclid=IwAR_Case") +
            "&em=" + Uri.EscapeDataString("tv.1~em.McVUPBc00lxyBvX9WRUl0Clb7G_oT_gvlGo0_pcKHmY~pn.kQpiXEuhR7VE5r0vJn4TCuFMWRtrqcJcuFczIt7b69A~pc0.94045~co0.US"),
            cookie: "_fbp=fb.1.1.2; _fbc=fb.1.1554763741205.OLDCLICK; _ttp=ttp1; li_fat_id=uuid-1; _gcl_aw=GCL.1641466031.cookieGclid"))[0];
        Assert.Equal("Cj0KCQ", e.User.Gclid); // the landing URL beats the older cookie
        Assert.Equal("E.C.P.abc", e.User.Ttclid);
        Assert.Equal("IwAR_Case", e.User.Fbclid);
        Assert.Equal("fb.1.1554763741205.OLDCLICK", e.User.Fbc);
        Assert.Equal("ttp1", e.User.Ttp);
        Assert.Equal("uuid-1", e.User.LiFatId);
        Assert.Equal("31c5543c1734d25c7206f5fd591525d0295bec6fe84ff82f946a34fe970a1e66", e.User.EmailHash);
        Assert.Equal("910a625c4ba147b544e6bd2f267e130ae14c591b6ba9c25cb8573322dedbebd0", e.User.PhoneE164Hash);
        Assert.Equal(("94045", "US"), (e.User.Zip, e.User.Country));
        Assert.Equal("203.0.113.5", e.User.Ip);
    }

    [Fact]
    public void An_fbc_is_built_from_a_new_fbclid_with_the_click_id_untouched()
    {
        Assert.Equal("fb.1.1554763741205.SAME", TagGateway.Capi.Identity.ClickIds.Fbc("fb.1.1554763741205.SAME", "SAME", 5));
        Assert.Equal("fb.1.1554763741205.SAME.AbCdEfGh", TagGateway.Capi.Identity.ClickIds.Fbc("fb.1.1554763741205.SAME.AbCdEfGh", "SAME", 5));
        Assert.Equal("fb.1.1700000000123.NeW_Click", TagGateway.Capi.Identity.ClickIds.Fbc("fb.1.1554763741205.OLD", "NeW_Click", 1700000000123));
        Assert.Equal("fb.1.1700000000123.NeW_Click", TagGateway.Capi.Identity.ClickIds.Fbc(null, "NeW_Click", 1700000000123));
    }

    [Fact]
    public void Lines_without_an_event_name_are_skipped()
    {
        Assert.Empty(Decode(Hit("v=2&tid=G-X", "_et=5\n")));
        Assert.Single(Decode(Hit("v=2&en=page_view")));
    }
}
