using System.Net;

namespace TagGateway.Configuration;

/// <summary>
/// Which request hosts may name the identifier cookies' <c>Domain</c> (issue #17): a hostile <c>Host</c> must not.
/// With <see cref="GatewayOptions.SiteHosts"/> configured, only those hosts (and their subdomains) do, whoever sent
/// the request; without, only a host a trusted edge passed on. Any other host gets host-only cookies: the browser
/// then scopes them to the host it really asked, so the value cannot be abused, and nothing a visitor sends is
/// written back into a header.
/// </summary>
internal sealed class SiteHostPolicy
{
    private readonly string[] _hosts;

    public SiteHostPolicy(IReadOnlyList<string>? configured)
    {
        // Lower case and without a trailing dot, as validated at start-up; compared ignoring case per request.
        _hosts = (configured ?? []).Select(static h => h.TrimEnd('.').ToLowerInvariant()).ToArray();
    }

    /// <summary><paramref name="host"/> when it may name a cookie domain, else null (host-only cookies).</summary>
    /// <param name="host">The Host header, or the host a trusted edge forwarded; a port is allowed.</param>
    /// <param name="fromTrustedEdge">Whether a trusted edge (peer and secret checked) passed the host on.</param>
    public string? Admit(string? host, bool fromTrustedEdge)
    {
        if (string.IsNullOrEmpty(host))
        {
            return null;
        }

        if (_hosts.Length == 0)
        {
            return fromTrustedEdge ? host : null;
        }

        return IsConfigured(host) ? host : null;
    }

    private bool IsConfigured(string value)
    {
        var name = value.AsSpan();
        if (name.StartsWith('['))
        {
            // An IPv6 literal is never a site host (and gets no Domain anyway).
            return false;
        }

        var colon = name.IndexOf(':');
        if (colon >= 0)
        {
            name = name[..colon];
        }

        foreach (var site in _hosts)
        {
            // The host itself, or a subdomain of it: "www.example.com" under "example.com", never "notexample.com".
            if (name.Equals(site, StringComparison.OrdinalIgnoreCase)
                || (name.Length > site.Length && name[^(site.Length + 1)] == '.' && name.EndsWith(site, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A DNS host name: letters, digits and inner hyphens in labels of 1-63, at most 253 in all; no IP, port or wildcard.</summary>
    internal static bool IsHostName(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 253 || IPAddress.TryParse(value, out _))
        {
            return false;
        }

        foreach (var range in value.AsSpan().TrimEnd('.').Split('.'))
        {
            var label = value.AsSpan()[range];
            if (label.Length is < 1 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }
        }

        return true;
    }
}
