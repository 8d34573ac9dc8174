using System.Net;

namespace TagGateway.Capi.Delivery.Http;

/// <summary>
/// The transport of every CAPI outbound client (the platforms and the OAuth token endpoint). No platform API
/// redirects a POST legitimately, and HttpClientHandler's default follows 3xx and re-sends the body (Meta's
/// access_token included) to wherever Location points: here nothing follows a redirect, and nothing keeps cookies.
/// </summary>
internal static class OutboundHandlers
{
    public static SocketsHttpHandler Primary() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>The host a 3xx pointed at, and never more: a full Location may carry a token in its query.</summary>
    public static string RedirectHost(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var location = response.Headers.Location;
        return location is null ? "(no Location)"
            : location.IsAbsoluteUri ? location.IdnHost
            : "(a relative Location)";
    }

    public static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400;
}

/// <summary>
/// Refuses, before anything is sent, a request whose origin is not the configured one: credentials (bearer headers,
/// Access-Token, access_token in a body, a client secret) only ever travel to the origin the operator configured.
/// Requests are built relative to that origin, so this never fires unless a future change builds an absolute URL.
/// </summary>
internal sealed class ConfiguredOriginHandler : DelegatingHandler
{
    private readonly string _origin;

    public ConfiguredOriginHandler(Uri origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        _origin = origin.GetLeftPart(UriPartial.Authority);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is not { IsAbsoluteUri: true } uri || !string.Equals(uri.GetLeftPart(UriPartial.Authority), _origin, StringComparison.OrdinalIgnoreCase))
        {
            var host = request.RequestUri is { IsAbsoluteUri: true } target ? target.IdnHost : "a relative URL";
            throw new HttpRequestException($"refused to send credentials to {host}: not the configured origin");
        }

        return base.SendAsync(request, cancellationToken);
    }
}
