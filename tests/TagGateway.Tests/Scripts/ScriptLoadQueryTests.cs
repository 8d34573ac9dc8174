using TagGateway.Routing;
using TagGateway.Scripts;

namespace TagGateway.Tests.Scripts;

/// <summary>The parameter set of a script load, decided as a whole: unit tests of <see cref="ScriptLoadQuery"/>.</summary>
public sealed class ScriptLoadQueryTests
{
    private static readonly TagRegistry Tags = new(["G-TEST1234", "GTM-TEST567"]);

    private static (ScriptLoadVerdict Verdict, ScriptLoadQuery Load) Validate(string query)
    {
        var verdict = ScriptLoadQuery.Validate(query, Tags, out var load);
        return (verdict, load);
    }

    private static string Canonical(string query)
    {
        var (verdict, load) = Validate(query);
        Assert.Equal(ScriptLoadVerdict.Ok, verdict);
        var buffer = new char[query.Length];
        var length = load.WriteCanonical(query, buffer);
        Assert.Equal(length, load.CanonicalLength(query));
        return new string(buffer, 0, length);
    }

    [Theory]
    [InlineData("id=G-TEST1234", "id=G-TEST1234")]
    [InlineData("id=G-TEST1234&l=dataLayer", "id=G-TEST1234&l=dataLayer")]
    [InlineData("l=dataLayer&id=G-TEST1234", "id=G-TEST1234&l=dataLayer")]
    [InlineData("id=G-TEST1234&cb=123456&_=1749482504123&v=2", "id=G-TEST1234")]
    [InlineData("tag_exp=101509157~103116026&gtm=45He51d0v9194133166za200&cx=c&l=dataLayer&id=G-TEST1234&junk=1", "id=G-TEST1234&l=dataLayer&cx=c&gtm=45He51d0v9194133166za200&tag_exp=101509157~103116026")]
    [InlineData("id=G-TEST1234&l=first&l=second", "id=G-TEST1234&l=first")]
    [InlineData("&&id=GTM-TEST567&&", "id=GTM-TEST567")]
    [InlineData("id=G-TEST1234&pid=99&tid=G-OTHER999&uid=x&idx=y&ids=z", "id=G-TEST1234")]
    // A second '?' stays part of the first name, as the upstream reads it: "?l" is not l.
    [InlineData("?l=evil&id=G-TEST1234", "id=G-TEST1234")]
    public void The_key_holds_only_the_parameters_that_change_the_answer_in_a_fixed_order(string query, string expected)
    {
        Assert.Equal(expected, Canonical(query));
    }

    [Theory]
    [InlineData("?id=G-TEST1234", ScriptLoadVerdict.MissingId)]
    [InlineData("id", ScriptLoadVerdict.MalformedId)]
    [InlineData("id=", ScriptLoadVerdict.MalformedId)]
    [InlineData("id=G-TEST1234&l", ScriptLoadVerdict.MalformedParameter)]
    [InlineData("id=G-TEST1234&l=a=b", ScriptLoadVerdict.MalformedParameter)]
    [InlineData("id=G-TEST1234&l=data+layer", ScriptLoadVerdict.MalformedParameter)]
    [InlineData("id=G-TEST1234&l=%64ataLayer", ScriptLoadVerdict.MalformedParameter)]
    public void Pairs_are_cut_where_the_upstream_cuts_them(string query, object expected)
    {
        Assert.Equal((ScriptLoadVerdict)expected, Validate(query).Verdict);
    }

    [Theory]
    // A second id, whichever comes first.
    [InlineData("id=G-TEST1234&id=GTM-EVIL99", ScriptLoadVerdict.RepeatedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&id=G-TEST1234", ScriptLoadVerdict.RepeatedId, "G-TEST1234")]
    // Another case.
    [InlineData("id=G-TEST1234&ID=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("Id=GTM-EVIL99&id=G-TEST1234", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("iD=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    // Percent-encoded, once or more.
    [InlineData("id=G-TEST1234&%69d=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&i%64=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&%69%64=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&%49%44=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&%2569d=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&%252569d=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    // Brackets, spaces, plus signs.
    [InlineData("id=G-TEST1234&id[]=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id[]=GTM-EVIL99&id=G-TEST1234", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&id[0]=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&id%5B%5D=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&id+=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&%20id=GTM-EVIL99", ScriptLoadVerdict.DisguisedId, "GTM-EVIL99")]
    [InlineData("id=G-TEST1234&ID[]", ScriptLoadVerdict.DisguisedId, "")]
    // No id at all.
    [InlineData("", ScriptLoadVerdict.MissingId, "")]
    [InlineData("l=dataLayer", ScriptLoadVerdict.MissingId, "")]
    [InlineData("idx=G-TEST1234", ScriptLoadVerdict.MissingId, "")]
    // Not an ID.
    [InlineData("id=", ScriptLoadVerdict.MalformedId, "")]
    [InlineData("id", ScriptLoadVerdict.MalformedId, "")]
    [InlineData("id=g-test1234", ScriptLoadVerdict.MalformedId, "g-test1234")]
    [InlineData("id=G-TEST%31234", ScriptLoadVerdict.MalformedId, "G-TEST%31234")]
    [InlineData("id=evil.example%2F", ScriptLoadVerdict.MalformedId, "evil.example%2F")]
    // Well formed, not ours.
    [InlineData("id=GTM-EVIL99", ScriptLoadVerdict.UnknownId, "GTM-EVIL99")]
    [InlineData("id=AW-123456789&l=dataLayer", ScriptLoadVerdict.UnknownId, "AW-123456789")]
    // A keyed parameter outside its syntax.
    [InlineData("id=G-TEST1234&l=a%20b", ScriptLoadVerdict.MalformedParameter, "")]
    [InlineData("id=G-TEST1234&l=<script>", ScriptLoadVerdict.MalformedParameter, "")]
    [InlineData("id=G-TEST1234&gtm=", ScriptLoadVerdict.MalformedParameter, "")]
    [InlineData("id=G-TEST1234&cx", ScriptLoadVerdict.MalformedParameter, "")]
    public void The_whole_parameter_set_decides(string query, object expected, string refused)
    {
        // object: xunit theories are public, the verdict type is internal.
        var (verdict, load) = Validate(query);

        Assert.Equal((ScriptLoadVerdict)expected, verdict);
        Assert.Equal(refused, query[load.Refused]);
    }

    [Fact]
    public void A_keyed_value_longer_than_the_limit_is_refused()
    {
        var value = new string('1', ScriptLoadQuery.MaxKeyedValueLength);
        Assert.Equal(ScriptLoadVerdict.Ok, Validate($"id=G-TEST1234&tag_exp={value}").Verdict);
        Assert.Equal(ScriptLoadVerdict.MalformedParameter, Validate($"id=G-TEST1234&tag_exp={value}1").Verdict);
    }

    [Theory]
    [InlineData("id=GTM-TEST567", ScriptLoadKind.Cacheable)]
    [InlineData("id=GTM-TEST567&gtm_debug=x", ScriptLoadKind.Preview)]
    [InlineData("id=GTM-TEST567&gtm_auth=abc&gtm_preview=env-2&gtm_cookies_win=x", ScriptLoadKind.Preview)]
    [InlineData("id=GTM-TEST567&is_td=1&v=3&t=t&pid=1888418727&seq=2&z=0", ScriptLoadKind.Diagnostics)]
    [InlineData("is_td=1&id=G-TEST1234", ScriptLoadKind.Diagnostics)]
    [InlineData("id=GTM-TEST567&is_td=1&gtm_debug=x", ScriptLoadKind.Preview)]
    [InlineData("id=GTM-TEST567&GTM_DEBUG=x", ScriptLoadKind.Cacheable)]
    public void Preview_and_diagnostics_are_recognised(string query, object expected)
    {
        var (verdict, load) = Validate(query);

        Assert.Equal(ScriptLoadVerdict.Ok, verdict);
        Assert.Equal((ScriptLoadKind)expected, load.Kind);
    }

    [Theory]
    [InlineData("id", false)]
    [InlineData("ID", true)]
    [InlineData("%69d", true)]
    [InlineData("%2569%2564", true)]
    [InlineData("id[]", true)]
    [InlineData("id%5b%5d", true)]
    [InlineData("+id+", true)]
    [InlineData("pid", false)]
    [InlineData("tid", false)]
    [InlineData("idx", false)]
    [InlineData("i", false)]
    [InlineData("%", false)]
    [InlineData("%6", false)]
    [InlineData("%zz", false)]
    [InlineData("[id]", false)]
    public void Names_are_compared_after_decoding(string name, bool disguised)
    {
        Assert.Equal(disguised, ScriptLoadQuery.IsIdInDisguise(name));
    }

    [Fact]
    public void A_very_long_name_is_decoded_in_a_pooled_buffer()
    {
        var padded = new string(' ', 300) + "%69d" + new string('+', 300);
        Assert.True(ScriptLoadQuery.IsIdInDisguise(padded));
        Assert.False(ScriptLoadQuery.IsIdInDisguise(padded + "x"));
    }

    [Theory]
    [InlineData("id=G-TEST1234", true)]
    [InlineData("ID=GTM-EVIL99", true)]
    [InlineData("x=1&%69d=GTM-EVIL99", true)]
    [InlineData("tid=G-TEST1234&v=2", false)]
    [InlineData("", false)]
    [InlineData("&&", false)]
    [InlineData("x=1&&id", true)]
    [InlineData("?id=G-TEST1234", false)]
    [InlineData("?x=1&id=G-TEST1234", true)]
    public void The_loader_form_is_a_script_load_whenever_a_name_reads_as_id(string query, bool expected)
    {
        Assert.Equal(expected, MeasurementRoutes.NamesATag(query));
    }

    [Theory]
    [InlineData("G-TEST1234", "G-TEST1234")]
    [InlineData("g-test1234", "(10 characters, a tag ID in the wrong case)")]
    [InlineData("evil.example%2F", "(15 characters, percent-encoded)")]
    [InlineData("<script>alert(1)</script>", "(25 characters, not a tag ID)")]
    [InlineData("", "(none)")]
    public void A_refused_value_is_logged_only_when_it_has_tag_ID_syntax(string value, string expected)
    {
        Assert.Equal(expected, ScriptEndpoint.Describe(value));
    }

    [Fact]
    public void The_happy_path_allocates_nothing()
    {
        const string Query = "id=G-TEST1234&l=dataLayer&cx=c&gtm=45He51d0v9194133166za200&cb=1749482504123&%5F=1";
        Span<char> buffer = stackalloc char[Query.Length];

        // Warm up, so nothing the first call does (type initialisers, tiering) is counted.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ScriptLoadVerdict.Ok, ScriptLoadQuery.Validate(Query, Tags, out var warm));
            warm.WriteCanonical(Query, buffer);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            ScriptLoadQuery.Validate(Query, Tags, out var load);
            load.WriteCanonical(Query, buffer[..load.CanonicalLength(Query)]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
