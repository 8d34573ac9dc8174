using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using TagGateway.Configuration;

namespace TagGateway.ClientIdentity;

/// <summary>What the gateway saw of a request through the edge, for <c>TagGateway doctor</c>. Never the IP itself.</summary>
internal sealed record EdgeDiagnosticReport(
    bool TrustedEdge,
    string Edge,
    string? Country,
    string? CountryRegion,
    string Scheme,
    string? SiteHost,
    string? ClientIpFamily);

/// <summary>
/// Answers <c>{measurement path}/tg-doctor</c> with what the edge passed on. Authorised only by a token the doctor sends in
/// <see cref="TokenHeader"/>: the edge secret or <c>Gateway:Management:DiagnosticToken</c>, compared in constant time.
/// Anyone else gets the 404 of any unknown path, so the endpoint reveals nothing; requests elsewhere never reach it.
/// </summary>
internal sealed class EdgeDiagnostic
{
    public const string Path = "/tg-doctor";

    /// <summary>
    /// Its own header, not <see cref="EdgeHeaders.Secret"/>: the edge adds the secret to every visitor's request, so that
    /// header proves only that a request came through the edge, not that the doctor's operator sent it.
    /// </summary>
    public const string TokenHeader = "X-TagGateway-Diagnostic-Token";

    /// <summary>SHA-256 digests of the accepted tokens (the edge secret, the diagnostic token).</summary>
    private readonly byte[][] _tokens;
    private readonly string _edge;
    private readonly ClientInfoResolver _clients;

    public EdgeDiagnostic(GatewayOptions options, ClientInfoResolver clients)
    {
        ArgumentNullException.ThrowIfNull(options);
        _clients = clients;
        _edge = options.ClientIdentity.Edge.ToString();
        _tokens = new[] { options.ClientIdentity.EdgeSecret, options.Management.DiagnosticToken }
            .Where(static t => !string.IsNullOrEmpty(t))
            .Select(static t => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(t!)))
            .ToArray();
    }

    /// <summary>Writes the report when the request is authorised; false (nothing written) when it is not.</summary>
    public bool TryAnswer(HttpContext context, out Task answered)
    {
        if (!IsAuthorised(context.Request.Headers[TokenHeader]))
        {
            answered = Task.CompletedTask;
            return false;
        }

        var client = _clients.Resolve(context);
        var family = client.IpText is { } ip && System.Net.IPAddress.TryParse(ip, out var address)
            ? address.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4"
            : null;
        var report = new EdgeDiagnosticReport(client.FromTrustedEdge, _edge, client.Country, client.CountryRegion, client.IsHttps ? "https" : "http", client.SiteHost, family);
        context.Response.Headers.CacheControl = "no-store";
        answered = context.Response.WriteAsJsonAsync(report, EdgeDiagnosticJsonContext.Default.EdgeDiagnosticReport);
        return true;
    }

    private bool IsAuthorised(Microsoft.Extensions.Primitives.StringValues presented)
    {
        if (_tokens.Length == 0 || presented.Count != 1 || presented[0] is not { Length: > 0 and <= 512 } value)
        {
            return false;
        }

        // Digests, not the tokens, are compared: equal lengths, so the time taken reveals not even a token's length.
        Span<byte> bytes = stackalloc byte[1536];
        var length = System.Text.Encoding.UTF8.GetBytes(value, bytes);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes[..length], digest);
        var match = false;
        foreach (var token in _tokens)
        {
            // Every token compared, in constant time, so timing reveals neither which matched nor how much of a guess.
            match |= CryptographicOperations.FixedTimeEquals(digest, token);
        }

        return match;
    }
}
