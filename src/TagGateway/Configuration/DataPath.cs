namespace TagGateway.Configuration;

/// <summary>The folder relative store paths resolve against (<c>Gateway:DataPath</c>).</summary>
internal static class DataPath
{
    /// <summary>systemd sets it to the unit's <c>StateDirectory=</c> (several, colon-separated: the first is used).</summary>
    public const string StateDirectoryVariable = "STATE_DIRECTORY";

    public static string Resolve(string? configured) => Resolve(configured, Environment.GetEnvironmentVariable(StateDirectoryVariable), AppContext.BaseDirectory);

    internal static string Resolve(string? configured, string? stateDirectory, string binaryFolder)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured, binaryFolder);
        }

        if (!string.IsNullOrWhiteSpace(stateDirectory))
        {
            var colon = stateDirectory.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? stateDirectory : stateDirectory[..colon];
        }

        return binaryFolder;
    }
}

/// <summary>The store paths made absolute against <c>Gateway:DataPath</c>, as the top configuration source.</summary>
internal sealed class ResolvedPathsSource(Dictionary<string, string?> paths) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new ResolvedPathsProvider(paths);
}

internal sealed class ResolvedPathsProvider : ConfigurationProvider
{
    public ResolvedPathsProvider(Dictionary<string, string?> paths)
    {
        Data = paths;
    }
}
