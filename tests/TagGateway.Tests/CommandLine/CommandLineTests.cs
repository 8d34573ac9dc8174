using System.Net;
using System.Net.Sockets;

namespace TagGateway.Tests.CommandLine;

/// <summary>Every message of the command line and start-up, on the real process: exit code and text (issue #15).</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_prints_the_usage_the_sub_commands_and_the_common_keys_and_exits_0()
    {
        using var run = await GatewayProcess.RunAsync(["--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("check-config", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Gateway:TagIds:0", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Gateway:PublicUrl", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("README.md", run.Stdout, StringComparison.Ordinal);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Version_prints_version_commit_build_date_runtime_and_the_redis_store_and_exits_0()
    {
        using var run = await GatewayProcess.RunAsync(["--version"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^TagGateway \d+\.\d+\.\d+", run.Stdout);
        Assert.Matches(@"commit:\s+\S+", run.Stdout);
        Assert.Matches(@"built:\s+\d{4}-\d{2}-\d{2}", run.Stdout);
        Assert.Contains(".NET 10", run.Stdout, StringComparison.Ordinal);

        // Test builds are not publishes, so they keep the Redis store (TagGateway.csproj).
        Assert.Contains("redis store: compiled in", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--hlep", "did you mean `--help`?")]
    [InlineData("--foo", "Unknown option '--foo'")]
    [InlineData("--port", "--Gateway:PublicUrl=http://127.0.0.1:8081")]
    public async Task An_unknown_option_is_an_error_with_what_to_use_instead_and_exit_2(string option, string expected)
    {
        using var run = await GatewayProcess.RunAsync(option == "--port" ? [option, "8081"] : [option]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", run.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_misspelled_key_stops_a_gateway_serving_real_tags_with_the_nearest_key_and_exit_2()
    {
        using var run = await GatewayProcess.RunAsync([], new()
        {
            ["Gateway__TagIds__0"] = "G-TEST1234",
            ["Gateway__MesurementPath"] = "/m",
            ["Capi__Meta__AccesToken"] = "x",
        });

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Gateway:MesurementPath is not a known key; did you mean `Gateway:MeasurementPath`?", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("did you mean `Capi:Meta:AccessToken`?", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelled_tag_key_is_a_warning_naming_Gateway_TagIds_in_the_demo_which_still_starts()
    {
        using var run = GatewayProcess.Start([], new() { ["Gateway__TagId__0"] = "G-TEST1234" });

        var warned = await run.WaitForOutputAsync("did you mean `Gateway:TagIds:0`?", TimeSpan.FromSeconds(30));

        Assert.True(warned, run.Stdout + run.Stderr);
        Assert.False(run.HasExited);
        Assert.Contains("Demo mode", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_enum_value_lists_the_allowed_values_and_exits_2()
    {
        using var run = await GatewayProcess.RunAsync([], new()
        {
            ["Gateway__TagIds__0"] = "G-TEST1234",
            ["Gateway__Mode"] = "Proxy",
            ["Consent__Log__Mode"] = "Everything",
        });

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Gateway:Mode is 'Proxy'; allowed values: TagGateway, Direct", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Consent:Log:Mode is 'Everything'; allowed values:", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to convert", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_enum_value_in_another_case_is_normalised_not_refused()
    {
        using var run = await GatewayProcess.RunAsync(["check-config"], new()
        {
            ["Gateway__TagIds__0"] = "G-TEST1234",
            ["Gateway__Mode"] = "direct",
        });

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Gateway:Mode = direct  [environment]", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_busy_port_names_the_key_to_change_without_a_stack_trace_and_exits_1()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var busy = ((IPEndPoint)holder.LocalEndpoint).Port;

        using var run = await GatewayProcess.RunAsync([], new()
        {
            ["Gateway__TagIds__0"] = "G-TEST1234",
            ["Gateway__PublicUrl"] = $"http://127.0.0.1:{busy}",
        });

        Assert.Equal(1, run.ExitCode);
        var all = run.Stdout + run.Stderr;
        Assert.Contains($"http://127.0.0.1:{busy}: address already in use", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Gateway:PublicUrl", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_config_prints_the_effective_configuration_with_secrets_masked_and_sources_and_exits_0()
    {
        const string Secret = "EAAB-very-secret-token";
        using var run = await GatewayProcess.RunAsync(["check-config", "--Gateway:MeasurementPath=/tg"], new()
        {
            ["Gateway__TagIds__0"] = "G-TEST1234",
            ["Capi__Meta__AccessToken"] = Secret,
            ["Capi__Meta__PixelId"] = "1234567890",
            ["Capi__Ingest__ApiKeys__0"] = "ingest-key-0123456789abcdef",
            ["Gateway__ClientIdentity__EdgeSecret"] = "edge-secret-value",
        });

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("The configuration is valid.", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ingest-key", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("edge-secret-value", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Capi:Meta:AccessToken = ****** ({Secret.Length} characters)  [environment]", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Capi:Ingest:ApiKeys:0 = ******", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Gateway:ClientIdentity:EdgeSecret = ******", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Capi:Meta:PixelId = 1234567890  [environment]", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Gateway:MeasurementPath = /tg  [command line]", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Gateway:Mode = TagGateway  [default]", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Capi:Store:Path = " + Path.Combine(AppContext.BaseDirectory, "capi-store"), run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_config_fails_as_start_up_would_with_exit_2()
    {
        // A module's own validation (a consent log to a file without a path), which start-up runs before listening.
        using var run = await GatewayProcess.RunAsync(["check-config"], new()
        {
            ["Gateway__TagIds__0"] = "G-TEST1234",
            ["Consent__Log__Mode"] = "File",
        });

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Consent:Log:Path", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("The configuration is valid.", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_start_up_banner_says_upstream_edge_consent_defaults_capi_and_management_one_line_each()
    {
        using var run = GatewayProcess.Start([], new()
        {
            ["Gateway__ClientIdentity__Edge"] = "ReverseProxy",
            ["Capi__Meta__PixelId"] = "1234567890",
            ["Capi__Meta__AccessToken"] = "token",
            ["Capi__Meta__BaseUrl"] = "http://127.0.0.1:9",
            ["Capi__Store__Path"] = "banner-store",
        });

        Assert.True(await run.WaitForOutputAsync("Management (health, readiness, metrics): http://127.0.0.1:", TimeSpan.FromSeconds(30)), run.Stdout + run.Stderr);
        var output = run.Stdout;
        Assert.Contains("Upstream (TagGateway mode): http://127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("Edge: ReverseProxy; visitor geolocation expected from the edge; edge secret not set", output, StringComparison.Ordinal);
        Assert.Contains("Consent defaults without a signal: strict regions (EEA, GB, CH, unknown) ad_storage Denied", output, StringComparison.Ordinal);

        // The relative store path resolved beside the binary (Gateway:DataPath unset, no systemd), not the working directory.
        Assert.Contains("CAPI destinations on: Meta; store Journal at " + Path.Combine(AppContext.BaseDirectory, "banner-store"), output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_are_json_when_stdout_is_not_a_terminal_unless_a_formatter_is_configured()
    {
        using var run = GatewayProcess.Start([], new() { ["Logging__Console__FormatterName"] = null });

        Assert.True(await run.WaitForOutputAsync("\"EventId\":26", TimeSpan.FromSeconds(30)), run.Stdout + run.Stderr);
        Assert.All(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), static line => Assert.StartsWith("{", line, StringComparison.Ordinal));
    }
}
