using TagGateway.Configuration;

namespace TagGateway.CommandLine;

/// <summary>Start-up failures told as what to change, without a stack trace.</summary>
internal static class StartupErrors
{
    /// <param name="ex">Kestrel's bind failure.</param>
    /// <param name="options">The bound options (read before the run: the host disposes its services when start fails).</param>
    public static string AddressInUse(IOException ex, GatewayOptions? options)
    {
        (string Key, string? Url)[] listeners =
        [
            ("Gateway:PublicUrl", options?.PublicUrl),
            ("Gateway:ManagementUrl", options?.ManagementUrl),
            ("Gateway:Demo:UpstreamUrl", options?.Demo.Enabled is true ? options.Demo.UpstreamUrl : null),
        ];

        // Kestrel's message names the address it could not bind ("Failed to bind to address http://127.0.0.1:8080: …").
        foreach ((var key, var url) in listeners)
        {
            if (url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri)
                && ex.Message.Contains($":{uri.Port}", StringComparison.Ordinal))
            {
                return $"Cannot start: {url}: address already in use (another process listens there). Stop it, or choose another port "
                    + $"with {key} (environment: {key.Replace(":", "__", StringComparison.Ordinal)}=http://127.0.0.1:<port>; command line: --{key}=http://127.0.0.1:<port>).";
            }
        }

        return $"Cannot start: {ex.Message} Choose another port with Gateway:PublicUrl or Gateway:ManagementUrl.";
    }
}
