using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using TagGateway.Capi.Configuration;

namespace TagGateway.Capi.Tests.Configuration;

/// <summary>
/// <see cref="AsciiTokenAttribute"/> replaced <c>[RegularExpression]</c> on the CAPI options (the regex engine cost the
/// native binary about 1 MB). Each attribute must accept exactly what its regular expression accepted, so every pattern
/// is checked against the old expression on the same inputs: hand-picked edges and a seeded random sample.
/// </summary>
public sealed class AsciiTokenAttributeTests
{
    public static TheoryData<string, string> Patterns => new()
    {
        { nameof(CapiOptions.DefaultPhoneCountryCode), "^[0-9]{1,3}$" },
        { "Meta.PixelId", "^[0-9]{1,32}$" },
        { "TikTok.PixelCode", "^[A-Za-z0-9]{1,64}$" },
        { "LinkedIn.Version", "^20[0-9]{4}$" },
        { "GoogleAds.CustomerId", "^[0-9]{1,20}$" },
        { "GoogleAds.LoginCustomerId", "^[0-9]{1,20}$" },
        { "GoogleAnalytics.MeasurementId", "^G-[A-Z0-9]{4,20}$" },
        { "Store.Redis.KeyPrefix", "^[A-Za-z0-9:{}_.-]{1,64}$" },
        { "Store.Redis.ConsumerName", "^[A-Za-z0-9_.:-]{1,128}$" },
    };

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Each_option_accepts_exactly_what_its_old_regular_expression_did(string property, string pattern)
    {
        var attribute = AttributeOf(property);
        // The oracle is the attribute it replaced, as it validated (a match spanning the whole value).
        var regex = new RegularExpressionAttribute(pattern);
        // Empty is left out: [RegularExpression] let it through too (Required decides), covered below.
        var inputs = Edges().Concat(Random(attribute, seed: property.Length * 7919, count: 4000)).Where(static s => s.Length > 0).ToList();

        var accepted = 0;
        foreach (var input in inputs)
        {
            var expected = regex.IsValid(input);
            Assert.True(expected == attribute.IsValid(input), $"{property}: \"{input}\" regex {expected}, attribute {!expected}");
            accepted += expected ? 1 : 0;
        }

        // The sample reaches both sides of every pattern, so the comparison means something.
        Assert.InRange(accepted, 20, inputs.Count - 20);
    }

    [Theory]
    [InlineData("v24.0", true)]
    [InlineData("v1.0", true)]
    [InlineData("v999.9", true)]
    [InlineData("v1000.0", false)]
    [InlineData("v24.10", false)]
    [InlineData("v24", false)]
    [InlineData("v.0", false)]
    [InlineData("24.0", false)]
    [InlineData("v2a.0", false)]
    [InlineData("v24.0 ", false)]
    [InlineData("V24.0", false)]
    [InlineData("v24..", false)]
    [InlineData("", false)]
    public void The_Graph_API_version_is_v_then_one_to_three_digits_a_dot_and_a_digit(string version, bool valid)
    {
        Assert.Equal(valid, CapiOptionsCrossFieldValidator.IsGraphApiVersion(version));
        Assert.Equal(valid && version.Length > 0, Regex.IsMatch(version, "^v[0-9]{1,3}\\.[0-9]$"));
    }

    [Fact]
    public void The_generated_options_validator_applies_the_attributes_at_start_up()
    {
        var options = new CapiOptions();
        options.GoogleAnalytics.MeasurementId = "UA-12345-1";
        options.Meta.PixelId = "12345\n";
        options.Store.Redis.KeyPrefix = "{tg} capi";

        var result = new CapiOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = string.Join("\n", result.Failures!);
        Assert.Contains("MeasurementId must be 'G-' followed by 4 to 20 characters from [A-Z0-9]", failures, StringComparison.Ordinal);
        Assert.Contains("PixelId must be 1 to 32 characters from [0-9]", failures, StringComparison.Ordinal);
        Assert.Contains("KeyPrefix must be 1 to 64 characters", failures, StringComparison.Ordinal);

        Assert.True(new CapiOptionsValidator().Validate(null, new CapiOptions()).Succeeded);
    }

    [Fact]
    public void Null_and_empty_are_left_to_Required()
    {
        var attribute = new AsciiTokenAttribute("0-9", 1, 3);
        Assert.True(attribute.IsValid(null));
        Assert.True(attribute.IsValid(""));
    }

    [Fact]
    public void The_error_names_the_field_and_the_shape_expected()
    {
        var attribute = new AsciiTokenAttribute("A-Z0-9", 4, 20) { Prefix = "G-" };
        Assert.Equal("The field MeasurementId must be 'G-' followed by 4 to 20 characters from [A-Z0-9].", attribute.FormatErrorMessage("MeasurementId"));
    }

    private static AsciiTokenAttribute AttributeOf(string property)
    {
        var type = typeof(CapiOptions);
        var path = property.Split('.');
        foreach (var section in path[..^1])
        {
            type = type.GetProperty(section)!.PropertyType;
        }

        var found = type.GetProperty(path[^1])!.GetCustomAttributes(typeof(AsciiTokenAttribute), inherit: false);
        return Assert.IsType<AsciiTokenAttribute>(Assert.Single(found));
    }

    private static IEnumerable<string> Edges() =>
    [
        "0", "1", "12", "123", "1234", "202604", "20260", "2026045", "192604", "G-ABCD", "G-ABC", "G-ABCD1234EFGH5678IJKL",
        "G-ABCD1234EFGH5678IJKLM", "g-ABCD", "G-abcd", "G_ABCD", "{taggateway-capi}:", "host.1:2-3_4", "a b", " 1", "1 ", "1\n",
        "\u0661", "\uFF11", "abc", "ABC", "a-b", "-", ".", ":", "{", "}", new string('9', 20), new string('9', 21), new string('9', 32),
        new string('9', 33), new string('a', 64), new string('a', 65), new string('a', 128), new string('a', 129),
    ];

    /// <summary>Strings built mostly from the attribute's own prefix and characters, with a few strangers mixed in.</summary>
    private static IEnumerable<string> Random(AsciiTokenAttribute attribute, int seed, int count)
    {
        var random = new Random(seed);
        var own = AsciiTokenAttribute.Expand(attribute.Charset);
        const string Strangers = " -_.:{}aZ9\u00e9\u0661/\\\"'\t";
        for (var i = 0; i < count; i++)
        {
            var length = random.Next(0, attribute.MaxLength + 3);
            var chars = new char[length];
            for (var j = 0; j < length; j++)
            {
                chars[j] = random.Next(20) == 0 ? Strangers[random.Next(Strangers.Length)] : own[random.Next(own.Length)];
            }

            var prefix = random.Next(8) == 0 ? "" : attribute.Prefix;
            yield return prefix + new string(chars);
        }
    }
}
