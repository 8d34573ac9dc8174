using System.Text;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Options;
using TagGateway.Configuration;

namespace TagGateway.CommandLine;

/// <summary>
/// <c>TagGateway check-config</c>: the host is built exactly as for a run (the same binding and validators, the modules'
/// start-up validation), then not started; the effective configuration is printed with secrets masked.
/// </summary>
internal static class CheckConfig
{
    /// <summary>Builds and validates; throws what a start would throw (the caller maps it to exit 2).</summary>
    public static string Run(string[] hostArgs)
    {
        var app = GatewayHost.Create(hostArgs);

        // The modules' ValidateOnStart checks, which a start runs before listening.
        app.Services.GetService<IStartupValidator>()?.Validate();
        var warnings = app.Services.GetRequiredService<ConfigurationWarnings>();
        return Report((IConfigurationRoot)app.Configuration, warnings.Items);
    }

    internal static string Report(IConfigurationRoot configuration, IReadOnlyList<string> warnings)
    {
        var text = new StringBuilder("The configuration is valid.").AppendLine();
        foreach (var warning in warnings)
        {
            text.Append("warning: ").AppendLine(warning);
        }

        text.AppendLine().AppendLine("Effective configuration (key = value  [source]):");
        var keys = configuration.AsEnumerable()
            .Where(static pair => pair.Value is not null && (KnownKeys.IsChecked(pair.Key) || pair.Key.StartsWith("Logging:", StringComparison.OrdinalIgnoreCase)))
            .OrderBy(static pair => pair.Key, StringComparer.OrdinalIgnoreCase);
        foreach ((var key, var value) in keys)
        {
            text.Append("  ").Append(key).Append(" = ").Append(IsSecret(key) ? Mask(value!) : value)
                .Append("  [").Append(SourceOf(configuration, key)).AppendLine("]");
        }

        text.AppendLine().Append("Keys not listed take the built-in default of their option (TagGateway --help, README.md).");
        return text.ToString();
    }

    /// <summary>Keys whose value is a credential: anything named …Token, …Secret, …Key, …Password, …Salt, and each API key.</summary>
    internal static bool IsSecret(string key)
    {
        var colon = key.LastIndexOf(':');
        var last = key[(colon + 1)..];
        if (colon > 0 && int.TryParse(last, out _))
        {
            // A list entry is secret when its list is (Capi:Ingest:ApiKeys:0).
            return IsSecret(key[..colon]);
        }

        return last.EndsWith("Token", StringComparison.OrdinalIgnoreCase) || last.EndsWith("Secret", StringComparison.OrdinalIgnoreCase)
            || last.EndsWith("Key", StringComparison.OrdinalIgnoreCase) || last.EndsWith("Keys", StringComparison.OrdinalIgnoreCase)
            || last.EndsWith("Password", StringComparison.OrdinalIgnoreCase) || last.EndsWith("Salt", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Says that a value is set and how long it is, never any of its characters.</summary>
    private static string Mask(string value) => value.Length == 0 ? "(empty)" : $"****** ({value.Length} characters)";

    /// <summary>The provider whose value wins: the last one that has the key.</summary>
    private static string SourceOf(IConfigurationRoot configuration, string key)
    {
        var resolved = false;
        foreach (var provider in configuration.Providers.Reverse())
        {
            if (provider is ResolvedPathsProvider)
            {
                resolved |= provider.TryGet(key, out _);
                continue;
            }

            if (provider.TryGet(key, out _))
            {
                var source = provider switch
                {
                    JsonStreamConfigurationProvider => "default",
                    JsonConfigurationProvider json => "appsettings " + json.Source.Path,
                    EnvironmentVariablesConfigurationProvider => "environment",
                    CommandLineConfigurationProvider => "command line",
                    _ => provider.GetType().Name,
                };
                return resolved ? source + ", resolved against Gateway:DataPath" : source;
            }
        }

        return resolved ? "default, resolved against Gateway:DataPath" : "default";
    }
}

/// <summary>Configuration problems that do not stop the gateway (unknown keys in the demo), logged at start-up.</summary>
internal sealed class ConfigurationWarnings(IReadOnlyList<string> items)
{
    public IReadOnlyList<string> Items { get; } = items;
}
