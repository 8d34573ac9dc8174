using TagGateway.Cookies.PublicSuffix;

namespace TagGateway.Cookies.Tests;

public sealed class PublicSuffixListTests
{
    private static readonly PublicSuffixList List = PublicSuffixList.Embedded();

    [Theory]
    [InlineData("shop.example.co.uk", "example.co.uk")]
    [InlineData("example.co.uk", "example.co.uk")]
    [InlineData("www.example.com", "example.com")]
    [InlineData("a.b.c.example.com", "example.com")]
    [InlineData("example.com", "example.com")]
    [InlineData("shop.example.com.au", "example.com.au")]
    [InlineData("my-shop.github.io", "my-shop.github.io")]
    [InlineData("foo.bar.ck", "foo.bar.ck")]
    [InlineData("www.ck", "www.ck")]
    [InlineData("a.www.ck", "www.ck")]
    [InlineData("shop.example.unknowntld", "example.unknowntld")]
    [InlineData("example.com.", "example.com")]
    public void Registrable_domain_follows_the_list(string host, string expected) =>
        Assert.Equal(expected, List.RegistrableDomain(host));

    [Theory]
    [InlineData("co.uk")]
    [InlineData("com")]
    [InlineData("github.io")]
    [InlineData("bar.ck")]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("")]
    public void Public_suffixes_single_labels_and_addresses_have_none(string host) =>
        Assert.Null(List.RegistrableDomain(host));

    [Fact]
    public void The_embedded_list_is_the_real_one() => Assert.True(List.RuleCount > 8000, $"only {List.RuleCount} rules");

    [Fact]
    public void Rules_parse_comments_wildcards_and_exceptions()
    {
        var list = PublicSuffixList.FromLines(["// comment", "", "uk", "co.uk", "*.sch.uk", "!city.sch.uk", "  io  extra"]);

        Assert.Equal("example.co.uk", list.RegistrableDomain("www.example.co.uk"));
        Assert.Equal("school.foo.sch.uk", list.RegistrableDomain("www.school.foo.sch.uk"));
        Assert.Equal("city.sch.uk", list.RegistrableDomain("www.city.sch.uk"));
        Assert.Equal("x.io", list.RegistrableDomain("a.x.io"));
        Assert.Equal(5, list.RuleCount);
    }
}
