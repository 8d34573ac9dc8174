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

        var text = ReadFile(destination.AccessTokenFile, $"Capi:{section}:AccessTokenFile", errors);
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    /// <summary>A secret given inline (prefer the environment) or as a file; null when neither.</summary>
    public static string? Secret(string? value, string? file, string key, List<string>? errors = null)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value.Trim();
        }

        if (string.IsNullOrEmpty(file))
        {
            return null;
        }

        var text = ReadFile(file, key + "File", errors);
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    /// <summary>Google's OAuth client credentials and refresh token, or null when the refresh flow is not configured.</summary>
    public static GoogleOAuthCredentials? GoogleOAuth(GoogleAdsOptions google, List<string>? errors = null)
    {
        if (!google.UsesRefreshToken)
        {
            return null;
        }

        var refresh = Secret(google.RefreshToken, google.RefreshTokenFile, "Capi:GoogleAds:RefreshToken", errors);
        var id = Secret(google.ClientId, google.ClientIdFile, "Capi:GoogleAds:ClientId", errors);
        var secret = Secret(google.ClientSecret, google.ClientSecretFile, "Capi:GoogleAds:ClientSecret", errors);
        return refresh is null || id is null || secret is null ? null : new GoogleOAuthCredentials(id, secret, refresh);
    }

    public static List<string> ApiKeys(IngestOptions ingest, List<string>? errors = null)
    {
        var keys = new List<string>();
        foreach (var key in ingest.ApiKeys)
        {
            if (!string.IsNullOrWhiteSpace(key))
            {
                keys.Add(key.Trim());
            }
        }

        if (!string.IsNullOrEmpty(ingest.ApiKeyFile) && ReadFile(ingest.ApiKeyFile, "Capi:Ingest:ApiKeyFile", errors) is { } text)
        {
            foreach (var line in text.Split('\n'))
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

/// <summary>Never logged: <see cref="ToString"/> names no value.</summary>
internal sealed record GoogleOAuthCredentials(string ClientId, string ClientSecret, string RefreshToken)
{
    public override string ToString() => "GoogleOAuthCredentials [redacted]";
}
