using System.Collections;
using System.Reflection;
using TagGateway.Capi.Configuration;
using TagGateway.CommandLine;
using TagGateway.Configuration;
using TagGateway.Consent.Configuration;
using TagGateway.Cookies.Configuration;

namespace TagGateway.Tests.CommandLine;

/// <summary>
/// The hand-maintained key list of the binary (no reflection at run time: Native AOT) against the options types, walked
/// here with reflection: a property added to an options type without its key fails this test.
/// </summary>
public sealed class KnownKeysTests
{
    private static readonly (string Section, Type Type)[] Roots =
    [
        (GatewayOptions.SectionName, typeof(GatewayOptions)),
        (ConsentOptions.SectionName, typeof(ConsentOptions)),
        (CapiOptions.SectionName, typeof(CapiOptions)),
        (FirstPartyCookieOptions.SectionName, typeof(FirstPartyCookieOptions)),
    ];

    [Fact]
    public void The_known_keys_are_exactly_the_keys_the_options_types_bind()
    {
        var walked = new SortedSet<string>(StringComparer.Ordinal);
        var enums = new SortedSet<string>(StringComparer.Ordinal);
        foreach ((var section, var type) in Roots)
        {
            Walk(section, type, walked, enums);
        }

        Assert.Equal(walked, new SortedSet<string>(KnownKeys.Patterns, StringComparer.Ordinal));
        Assert.Equal(enums, new SortedSet<string>(KnownKeys.Enums.Select(static e => e.Pattern), StringComparer.Ordinal));
        Assert.Equal(KnownKeys.Sections.Order(), Roots.Select(static r => r.Section).Order());
    }

    [Theory]
    [InlineData("Gateway:TagId:0", "Gateway:TagIds:0")]
    [InlineData("Gateway:MesurementPath", "Gateway:MeasurementPath")]
    [InlineData("Gateway:Clientidentity:Egde", "Gateway:ClientIdentity:Edge")]
    [InlineData("Capi:Meta:Events:Purchase:Name", "Capi:Meta:Events:Purchase")]
    [InlineData("Consent:RegionDefaults:US-CA:AdStorge", "Consent:RegionDefaults:US-CA:AdStorage")]
    [InlineData("Gateway:Foo", null)]
    public void A_misspelled_key_gets_the_nearest_known_key(string key, string? expected)
    {
        Assert.False(KnownKeys.IsKnown(key));
        Assert.Equal(expected, KnownKeys.Suggest(key));
    }

    [Theory]
    [InlineData("gateway:tagids:3")]
    [InlineData("Capi:GoogleAds:ConversionActions:purchase")]
    [InlineData("Consent:Destinations:GoogleAds:SendRequires")]
    [InlineData("Cookies:Identifiers:_ga:MaxAge")]
    public void Known_keys_match_any_case_and_any_list_index_or_dictionary_key(string key) => Assert.True(KnownKeys.IsKnown(key));

    [Theory]
    [InlineData("Gateway:Mode", "Direct", null)]
    [InlineData("Gateway:Mode", "direct", null)]
    [InlineData("Gateway:Mode", "1", "allowed values: TagGateway, Direct")]
    [InlineData("Consent:Destinations:X:SendRequires", "AdStorage, AnalyticsStorage", null)]
    [InlineData("Consent:Destinations:X:SendRequires", "AdStorage, Cookies", "several separated by commas")]
    public void Enum_values_are_names_in_any_case_never_numbers(string key, string value, string? error)
    {
        var actual = KnownKeys.EnumError(key, value);
        if (error is null)
        {
            Assert.Null(actual);
        }
        else
        {
            Assert.Contains(error, actual, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Capi:Meta:AccessToken", true)]
    [InlineData("Capi:Meta:AccessTokenFile", false)]
    [InlineData("Capi:Ingest:ApiKeys:0", true)]
    [InlineData("Capi:GoogleAds:ClientSecret", true)]
    [InlineData("Capi:GoogleAds:RefreshToken", true)]
    [InlineData("Gateway:ClientIdentity:EdgeSecret", true)]
    [InlineData("Consent:Log:ClientIdSalt", true)]
    [InlineData("Capi:Store:Redis:KeyPrefix", false)]
    [InlineData("Gateway:TagIds:0", false)]
    public void Secrets_are_recognised_by_name(string key, bool secret) => Assert.Equal(secret, CheckConfig.IsSecret(key));

    [Fact]
    public void The_data_path_is_the_configured_one_else_the_systemd_state_directory_else_the_binary_folder()
    {
        Assert.Equal("/srv/tg", DataPath.Resolve("/srv/tg", "/var/lib/taggateway", "/opt/tg/"));
        Assert.Equal("/opt/tg/data", DataPath.Resolve("data", null, "/opt/tg/"));
        Assert.Equal("/var/lib/taggateway", DataPath.Resolve(null, "/var/lib/taggateway:/var/lib/other", "/opt/tg/"));
        Assert.Equal("/opt/tg/", DataPath.Resolve(null, null, "/opt/tg/"));
    }

    private static void Walk(string prefix, Type type, ISet<string> keys, ISet<string> enums)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanWrite && !IsCollection(property.PropertyType))
            {
                continue;
            }

            Leaf(prefix + ":" + property.Name, property.PropertyType, keys, enums);
        }
    }

    private static void Leaf(string key, Type type, ISet<string> keys, ISet<string> enums)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            enums.Add(key);
            keys.Add(key);
        }
        else if (type.IsPrimitive || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri))
        {
            keys.Add(key);
        }
        else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            Leaf(key + ":*", type.GetGenericArguments()[1], keys, enums);
        }
        else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            Leaf(key + ":*", type.GetGenericArguments()[0], keys, enums);
        }
        else if (type.IsClass)
        {
            Walk(key, type, keys, enums);
        }
        else
        {
            Assert.Fail($"{key}: the walker does not know {type}; teach it (and KnownKeys) this shape.");
        }
    }

    private static bool IsCollection(Type type) => typeof(IEnumerable).IsAssignableFrom(type) && type != typeof(string);
}
