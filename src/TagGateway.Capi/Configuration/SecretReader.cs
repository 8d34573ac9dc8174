namespace TagGateway.Capi.Configuration;

/// <summary>Reads tokens and API keys from configuration or mounted secret files. Values never reach a log or an error message.</summary>
internal static class SecretReader
{
    public static string? AccessToken(DestinationOptions destination, string section, List<string>? errors = null)
    {
        if (!string.IsNullOrWhiteSpace(destination.AccessToken))
        {
            return destination.AccessToken.Trim();
        }

        if (string.IsNullOrEmpty(destination.AccessTokenFile))
        {
            return null;
        }

        string? text = ReadFile(destination.AccessTokenFile, $"Capi:{section}:AccessTokenFile", errors);
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    public static List<string> ApiKeys(IngestOptions ingest, List<string>? errors = null)
    {
        var keys = new List<string>();
        foreach (string key in ingest.ApiKeys)
        {
            if (!string.IsNullOrWhiteSpace(key))
            {
                keys.Add(key.Trim());
            }
        }

        if (!string.IsNullOrEmpty(ingest.ApiKeyFile) && ReadFile(ingest.ApiKeyFile, "Capi:Ingest:ApiKeyFile", errors) is { } text)
        {
            foreach (string line in text.Split('\n'))
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    keys.Add(line.Trim());
                }
            }
        }

        return keys;
    }

    private static string? ReadFile(string path, string key, List<string>? errors)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The path is configuration, not a secret; the content never appears.
            errors?.Add($"{key}: cannot read \"{path}\" ({ex.GetType().Name}).");
            return null;
        }
    }
}
