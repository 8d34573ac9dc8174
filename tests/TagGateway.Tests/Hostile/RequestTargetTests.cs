using TagGateway.Routing;

namespace TagGateway.Tests.Hostile;

/// <summary>The raw-target rules on their own, beside the HTTP tests that send the same forms over a socket.</summary>
public sealed class RequestTargetTests
{
    public static TheoryData<string> NewlyRefused => TraversalForms.Data(TraversalForms.NewlyRefused);

    public static TheoryData<string> AlreadyRefused => TraversalForms.Data(TraversalForms.AlreadyRefused);

    public static TheoryData<string> Legitimate => TraversalForms.Data(TraversalForms.Legitimate);

    [Theory]
    [MemberData(nameof(NewlyRefused))]
    [MemberData(nameof(AlreadyRefused))]
    public void Traversal_forms_are_refused(string rest)
    {
        Assert.Equal(TargetVerdict.Traversal, RequestTarget.TryParse("/metrics" + rest + "?v=2&tid=G-TEST1234", "/metrics", out _));
        Assert.Equal(TargetVerdict.Traversal, RequestTarget.TryParse("/metrics" + rest, "/metrics", out _));
    }

    [Theory]
    [MemberData(nameof(Legitimate))]
    public void Paths_Googles_tag_uses_pass_with_prefix_rest_and_query_split(string rest)
    {
        var verdict = RequestTarget.TryParse("/metrics" + rest + "?v=2&tid=G-TEST1234", "/metrics", out var target);

        Assert.Equal(TargetVerdict.Ok, verdict);
        Assert.Equal("/metrics" + rest, target.Path.ToString());
        Assert.Equal(rest, target.Rest.ToString());
        Assert.Equal("v=2&tid=G-TEST1234", target.Query.ToString());
    }

    [Theory]
    [InlineData("http://evil.example/metrics/g/collect")]
    [InlineData("HTTP://evil.example/")]
    [InlineData("*")]
    [InlineData("evil.example:443")]
    [InlineData("")]
    public void Targets_not_in_origin_form_are_refused(string raw) =>
        Assert.Equal(TargetVerdict.NotOriginForm, RequestTarget.TryParse(raw, "/metrics", out _));

    [Theory]
    [InlineData("/")]
    [InlineData("/admin")]
    [InlineData("/METRICS/g/collect")]
    [InlineData("/metricsX/g/collect")]
    [InlineData("/metrics./g/collect")]
    [InlineData("/metrics;/g/collect")]
    public void Paths_outside_the_measurement_path_are_not_ours(string raw) =>
        Assert.Equal(TargetVerdict.NotMeasurementPath, RequestTarget.TryParse(raw, "/metrics", out _));

    [Theory]
    [InlineData("/metrics/g/collect?v=2&dl=https%3A%2F%2Fshop.example%2F..%2Fx")]
    [InlineData("/metrics/g/collect?v=2&dl=https%3A%2F%2Fshop.example%2F%252e")]
    [InlineData("/metrics/_/service_worker/5c30/sw.js?path=/metrics/")]
    [InlineData("/metrics/g/collect?v=2&en=%E2%82%AC")]
    public void Queries_carry_page_urls_and_are_not_held_to_path_rules(string raw) =>
        Assert.Equal(TargetVerdict.Ok, RequestTarget.TryParse(raw, "/metrics", out _));

    [Theory]
    [InlineData("/metrics/g/collect?v=2&x=a\\b")]
    [InlineData("/metrics/g/collect?v=2&x=a b")]
    [InlineData("/metrics/g/collect?v=2&x=a\0b")]
    public void Queries_with_raw_controls_spaces_or_backslashes_are_refused(string raw) =>
        Assert.Equal(TargetVerdict.Traversal, RequestTarget.TryParse(raw, "/metrics", out _));

    [Fact]
    public void A_longer_measurement_path_is_matched_whole()
    {
        Assert.Equal(TargetVerdict.Ok, RequestTarget.TryParse("/a/b.c/g/collect", "/a/b.c", out var target));
        Assert.Equal("/g/collect", target.Rest.ToString());
    }

    [Theory]
    [InlineData("/metrics", "", "")]
    [InlineData("/metrics?", "", "")]
    [InlineData("/metrics/", "/", "")]
    [InlineData("/metrics/?id=G-TEST1234", "/", "id=G-TEST1234")]
    [InlineData("/metrics/g/collect?a=b=c&&d&", "/g/collect", "a=b=c&&d&")]
    [InlineData("/metrics/g/collect?en=a+b&dl=%zz%", "/g/collect", "en=a+b&dl=%zz%")]
    [InlineData("/metrics/g/collect?x=1?y=2", "/g/collect", "x=1?y=2")]
    [InlineData("/metrics/gtm.js??id=G-TEST1234", "/gtm.js", "?id=G-TEST1234")]
    public void The_query_is_everything_after_the_first_question_mark_kept_raw(string raw, string rest, string query)
    {
        Assert.Equal(TargetVerdict.Ok, RequestTarget.TryParse(raw, "/metrics", out var target));
        Assert.Equal(rest, target.Rest.ToString());
        Assert.Equal(query, target.Query.ToString());
    }

    [Theory]
    [InlineData("/metrics/%")]
    [InlineData("/metrics/%4")]
    [InlineData("/metrics/%zz")]
    [InlineData("/metrics/g%2")]
    [InlineData("/metrics/\uD800")]
    [InlineData("/metrics/\uDC00x")]
    [InlineData("/metrics/caf\u00E9")]
    public void Bad_escapes_and_non_ascii_including_lone_surrogates_in_the_path_are_refused(string raw) =>
        Assert.Equal(TargetVerdict.Traversal, RequestTarget.TryParse(System.Text.RegularExpressions.Regex.Unescape(raw), "/metrics", out _));

    [Fact]
    public void Very_long_targets_are_split_without_a_limit_of_their_own()
    {
        // Length limits are Kestrel's (and LimitsOptions'); the parser itself must neither throw nor truncate.
        var rest = "/" + string.Join('/', Enumerable.Repeat("segment", 10_000));
        var query = string.Concat(Enumerable.Repeat("a=1&", 25_000));

        Assert.Equal(TargetVerdict.Ok, RequestTarget.TryParse("/metrics" + rest + "?" + query, "/metrics", out var target));
        Assert.Equal(rest.Length, target.Rest.Length);
        Assert.Equal(query.Length, target.Query.Length);
        Assert.Equal(TargetVerdict.Traversal, RequestTarget.TryParse("/metrics" + rest + "/../x", "/metrics", out _));
    }

    [Theory]
    [InlineData("?id=G-TEST1234", 1, true)]
    [InlineData("?id=G-TEST1234", 0, false)]
    [InlineData("x=1&id=G-TEST1234", 1, false)]
    [InlineData("&id=G-TEST1234", 1, false)]
    public void A_pair_right_after_a_second_question_mark_is_told_apart(string query, int offset, bool expected) =>
        Assert.Equal(expected, RequestTarget.FollowsSecondQuestionMark(query, offset));
}
