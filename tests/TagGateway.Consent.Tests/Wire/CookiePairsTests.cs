using TagGateway.Consent.Wire;

namespace TagGateway.Consent.Tests.Wire;

/// <summary>The one Cookie header parser on its own: trimmed, unquoted, nameless segments skipped, nothing decoded.</summary>
public sealed class CookiePairsTests
{
    private static (List<(string Name, string Value)> Pairs, int Skipped) Walk(string header)
    {
        var pairs = new List<(string, string)>();
        var cookies = CookiePairs.Enumerate(header);
        while (cookies.MoveNext())
        {
            pairs.Add((cookies.Name.ToString(), cookies.Value.ToString()));
        }

        return (pairs, cookies.Skipped);
    }

    [Theory]
    [InlineData("")]
    [InlineData(";")]
    [InlineData(" ; ;; ")]
    public void Empty_headers_and_empty_segments_yield_nothing_and_skip_nothing(string header)
    {
        var (pairs, skipped) = Walk(header);
        Assert.Empty(pairs);
        Assert.Equal(0, skipped);
    }

    [Fact]
    public void Pairs_come_in_order_with_a_trailing_semicolon_and_empty_segments_passed_over()
    {
        var (pairs, skipped) = Walk("_ga=GA1.1.1.2;;  _gid=GA1.1.3.4 ;");
        Assert.Equal([("_ga", "GA1.1.1.2"), ("_gid", "GA1.1.3.4")], pairs);
        Assert.Equal(0, skipped);
    }

    [Fact]
    public void Segments_without_a_name_are_skipped_and_counted()
    {
        var (pairs, skipped) = Walk("token; =x;  = y ; a=1");
        Assert.Equal([("a", "1")], pairs);
        Assert.Equal(3, skipped);
    }

    [Theory]
    [InlineData("a=b=c", "a", "b=c")]
    [InlineData("  a  =  1  ", "a", "1")]
    [InlineData("a=", "a", "")]
    [InlineData("a=\"quoted value\"", "a", "quoted value")]
    [InlineData("a=\"\"", "a", "")]
    [InlineData("a=\"", "a", "\"")]
    [InlineData("a=\"half", "a", "\"half")]
    [InlineData("a=%20%zz%", "a", "%20%zz%")]
    [InlineData("a+b=c+d", "a+b", "c+d")]
    [InlineData("a=\uD800", "a", "\uD800")]
    public void Values_are_trimmed_and_unquoted_but_never_decoded(string header, string name, string value)
    {
        var (pairs, _) = Walk(header);
        Assert.Equal([(name, value)], pairs);
    }

    [Fact]
    public void Pair_is_the_trimmed_pair_as_it_stood()
    {
        var cookies = CookiePairs.Enumerate(" a = \"x\" ;b=1");
        Assert.True(cookies.MoveNext());
        Assert.Equal("a = \"x\"", cookies.Pair.ToString());
        Assert.True(cookies.MoveNext());
        Assert.Equal("b=1", cookies.Pair.ToString());
        Assert.False(cookies.MoveNext());
    }

    [Fact]
    public void A_repeated_name_is_enumerated_twice_and_the_look_up_takes_the_first()
    {
        const string Header = "_ga=first; other=1; _ga=second";

        Assert.Equal([("_ga", "first"), ("other", "1"), ("_ga", "second")], Walk(Header).Pairs);
        Assert.True(CookiePairs.TryGet(Header, "_ga", out var value));
        Assert.Equal("first", value.ToString());
    }

    [Theory]
    [InlineData("_GA=1")]
    [InlineData("_ga_X=1")]
    [InlineData("x_ga=1")]
    [InlineData("_ga")]
    [InlineData("")]
    public void Names_match_verbatim_and_a_bare_token_is_not_a_cookie(string header)
    {
        Assert.False(CookiePairs.TryGet(header, "_ga", out var value));
        Assert.True(value.IsEmpty);
    }

    [Fact]
    public void A_very_long_header_is_walked_whole()
    {
        var header = string.Concat(Enumerable.Range(0, 10_000).Select(i => $"c{i}=v{i}; ")) + "last=" + new string('x', 50_000);

        var (pairs, skipped) = Walk(header);

        Assert.Equal(10_001, pairs.Count);
        Assert.Equal(0, skipped);
        Assert.True(CookiePairs.TryGet(header, "last", out var value));
        Assert.Equal(50_000, value.Length);
    }
}
