using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using TagGateway.Configuration;

namespace TagGateway.Tests.Configuration;

public sealed class ConfigurationTests
{
    private static GatewayConfigurationException Refused(Dictionary<string, string?> settings) =>
        Assert.Throws<GatewayConfigurationException>(() => GatewayHost.Create([], b => b.Configuration.AddInMemoryCollection(settings)));

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var error = Refused(new()
        {
            ["Gateway:Demo:Enabled"] = "false",
            ["Gateway:MeasurementPath"] = "/",
            ["Gateway:TagIds:0"] = "UA-12345-1",
            ["Gateway:TagIds:1"] = "G-",
            ["Gateway:Upstreams:Analytics"] = "ftp://example.com",
            ["Gateway:ClientIdentity:TrustedProxies:0"] = "10.0.0.0/33",
            ["Gateway:ClientIdentity:Edge"] = "CloudflareWorker",
            ["Gateway:Forwarding:MaxBodyBytes"] = "-1",
            ["Gateway:Scripts:StaleIfError"] = "90.00:00:00",
        });

        Assert.Contains(error.Errors, e => e.Contains("Gateway:MeasurementPath", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("'UA-12345-1'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("'G-'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("Gateway:Upstreams:Analytics", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("TrustedProxies:0", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("EdgeSecret", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("MaxBodyBytes", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("StaleIfError", StringComparison.Ordinal));
        Assert.True(error.Errors.Count >= 8);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_a_configuration_error_not_a_crash()
    {
        var error = Refused(new() { ["Gateway:Mode"] = "Sideways", ["Gateway:Demo:Enabled"] = "false" });

        Assert.Contains("Sideways", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/metrics", true)]
    [InlineData("/d4t4", true)]
    [InlineData("/a/b-c_d.e~f", true)]
    [InlineData("", false)]
    [InlineData("/", false)]
    [InlineData("metrics", false)]
    [InlineData("/metrics/", false)]
    [InlineData("/a//b", false)]
    [InlineData("/a/../b", false)]
    [InlineData("/with space", false)]
    [InlineData("/%2e", false)]
    public void Measurement_path_rules(string path, bool valid)
    {
        Assert.Equal(valid, MeasurementPath.TryValidate(path, out _));
        Assert.False(MeasurementPath.TryValidate("/" + new string('a', 100), out _));
    }

    [Theory]
    [InlineData("G-ABC123XYZ9", true)]
    [InlineData("GT-ABCD123", true)]
    [InlineData("GTM-P9TXQF82", true)]
    [InlineData("AW-123456789", true)]
    [InlineData("DC-1234567", true)]
    [InlineData("g-abc123", false)]
    [InlineData("UA-1234-1", false)]
    [InlineData("G-ABC", false)]
    [InlineData("G-ABCDEFGHIJKLMNOPQ", false)]
    [InlineData("G-ABC.evil.com", false)]
    [InlineData("G-ABC%2F", false)]
    [InlineData("-ABCD", false)]
    [InlineData("", false)]
    public void Tag_id_syntax(string id, bool valid) => Assert.Equal(valid, TagId.IsValid(id));

    [Fact]
    public async Task The_binary_exits_non_zero_with_a_clear_message_on_a_bad_configuration()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TagGateway.dll");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["Gateway__MeasurementPath"] = "/";
        start.Environment["Gateway__TagIds__0"] = "NOT-A-TAG";
        start.Environment["Gateway__TagIds__1"] = null;
        start.Environment["Gateway__PublicUrl"] = "http://127.0.0.1:0";
        start.Environment["Gateway__ManagementUrl"] = "http://127.0.0.1:0";

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, process.ExitCode);
        var message = await stderr;
        Assert.Contains("Gateway:MeasurementPath", message, StringComparison.Ordinal);
        Assert.Contains("NOT-A-TAG", message, StringComparison.Ordinal);
    }
}
