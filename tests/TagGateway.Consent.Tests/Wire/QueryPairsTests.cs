using System.Text;
using TagGateway.Consent.Wire;

namespace TagGateway.Consent.Tests.Wire;

/// <summary>The one query walker on its own: pairs are cut where a form decoder cuts them and nothing is decoded.</summary>
public sealed class QueryPairsTests
{
    private static List<(string Name, string Value, bool HasValue)> Walk(string query)
    {
        var pairs = new List<(string, string, bool)>();
        foreach (var pair in new QueryPairs<char>(query))
        {
            pairs.Add((pair.Name.ToString(), pair.Value.ToString(), pair.HasValue));
        }

        return pairs;
    }

    private static List<(string Name, string Value)> WalkBytes(byte[] query)
    {
        var pairs = new List<(string, string)>();
        foreach (var pair in new QueryPairs<byte>(query))
        {
            pairs.Add((Encoding.Latin1.GetString(pair.Name), Encoding.Latin1.GetString(pair.Value)));
        }

        return pairs;
    }

    [Theory]
    [InlineData("")]
    [InlineData("?")]
    [InlineData("&")]
    [InlineData("&&&")]
    [InlineData("?&&")]
    public void Empty_queries_and_empty_pairs_yield_nothing(string query)
    {
        Assert.Empty(Walk(query));
    }

    [Fact]
    public void Empty_pairs_and_a_trailing_ampersand_are_passed_over()
    {
        Assert.Equal([("a", "1", true), ("b", "2", true)], Walk("&a=1&&b=2&"));
    }

    [Fact]
    public void One_leading_question_mark_is_dropped_a_second_stays_in_the_name()
    {
        Assert.Equal([("a", "1", true)], Walk("?a=1"));
        Assert.Equal([("?a", "1", true)], Walk("??a=1"));
    }

    [Fact]
    public void The_first_equals_sign_splits_later_ones_belong_to_the_value()
    {
        Assert.Equal([("a", "b=c", true), ("d", "==", true)], Walk("a=b=c&d==="));
    }

    [Fact]
    public void A_bare_name_has_no_value_and_an_empty_value_is_still_a_value()
    {
        Assert.Equal([("a", "", false), ("b", "", true)], Walk("a&b="));
    }

    [Fact]
    public void A_pair_without_a_name_is_kept_with_an_empty_name()
    {
        Assert.Equal([("", "x", true)], Walk("=x"));
    }

    [Theory]
    [InlineData("%61=%62", "%61", "%62")]
    [InlineData("a+b=c+d", "a+b", "c+d")]
    [InlineData("%zz=%", "%zz", "%")]
    [InlineData("%E2%82%AC=%C3%28", "%E2%82%AC", "%C3%28")]
    [InlineData("a%26b=c%3Dd", "a%26b", "c%3Dd")]
    public void Nothing_is_decoded_escapes_and_plus_signs_stay_as_sent(string query, string name, string value)
    {
        Assert.Equal([(name, value, true)], Walk(query));
    }

    [Fact]
    public void Lone_surrogates_pass_through_untouched()
    {
        var query = "a=\uD800&\uDC00=b";
        Assert.Equal([("a", "\uD800", true), ("\uDC00", "b", true)], Walk(query));
    }

    [Fact]
    public void Pair_is_the_whole_pair_as_it_stood()
    {
        var pairs = new QueryPairs<char>("?x&a=b=c&");
        Assert.True(pairs.MoveNext());
        Assert.Equal("x", pairs.Pair.ToString());
        Assert.True(pairs.MoveNext());
        Assert.Equal("a=b=c", pairs.Pair.ToString());
        Assert.False(pairs.MoveNext());
    }

    [Fact]
    public void Names_match_verbatim_only()
    {
        var pairs = new QueryPairs<char>("ID=1&%69d=2&id=3");
        var matches = new List<string>();
        while (pairs.MoveNext())
        {
            if (pairs.NameIs("id"))
            {
                matches.Add(pairs.Value.ToString());
            }
        }

        Assert.Equal(["3"], matches);
    }

    [Fact]
    public void Repeated_names_the_first_and_the_last_look_ups_pick_their_ends()
    {
        const string Query = "tid=G-A&x=1&tid=G-B&tid=G-C";

        Assert.True(QueryPairs.TryGetFirstRawValue<char>(Query, "tid", out var first));
        Assert.Equal("G-A", first.ToString());
        Assert.True(QueryPairs.TryGetRawValue<char>(Query, "tid", out var last));
        Assert.Equal("G-C", last.ToString());
    }

    [Theory]
    [InlineData("a=1")]
    [InlineData("")]
    [InlineData("tidx=1&xtid=2&TID=3")]
    public void Look_ups_of_an_absent_name_say_so(string query)
    {
        Assert.False(QueryPairs.TryGetRawValue<char>(query, "tid", out var value));
        Assert.True(value.IsEmpty);
        Assert.False(QueryPairs.TryGetFirstRawValue<char>(query, "tid", out value));
        Assert.True(value.IsEmpty);
    }

    [Fact]
    public void A_bare_name_is_found_with_an_empty_value()
    {
        Assert.True(QueryPairs.TryGetRawValue<char>("a=1&npa", "npa", out var value));
        Assert.True(value.IsEmpty);
    }

    [Fact]
    public void A_very_long_query_is_walked_whole()
    {
        var query = string.Concat(Enumerable.Repeat("en=page_view&", 20_000)) + "tid=" + new string('x', 100_000);

        var pairs = Walk(query);

        Assert.Equal(20_001, pairs.Count);
        Assert.Equal(("tid", new string('x', 100_000), true), pairs[^1]);
        Assert.True(QueryPairs.TryGetRawValue<char>(query, "tid", out var value));
        Assert.Equal(100_000, value.Length);
    }

    [Fact]
    public void Bytes_are_cut_the_same_way_as_chars_invalid_utf8_included()
    {
        byte[] body = [.. "?v=2&&en=a=b&"u8, 0xFF, 0xC3, .. "=x&npa"u8];

        Assert.Equal([("v", "2"), ("en", "a=b"), ("\u00FF\u00C3", "x"), ("npa", "")], WalkBytes(body));
        Assert.True(QueryPairs.TryGetFirstRawValue<byte>(body, "en", out var value));
        Assert.Equal("a=b"u8.ToArray(), value.ToArray());
    }
}
