using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using TagGateway.Configuration;

namespace TagGateway.ClientIdentity;

/// <summary>
/// Resolves the visitor's IP, scheme and location from the one edge the operator named. Headers are believed
/// only from a trusted peer that also knows the edge secret when one is set; from anyone else they are ignored,
/// so a visitor cannot claim another IP or country.
/// </summary>
internal sealed class ClientInfoResolver
{
    private readonly EdgeKind _edge;
    private readonly IPNetwork[] _trusted;
    private readonly string? _secret;
    private readonly GeoHeaderCache _geo = new();
    private readonly SiteHostPolicy _siteHosts;

    public ClientInfoResolver(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var identity = options.ClientIdentity;
        _edge = identity.Edge;
        _secret = string.IsNullOrEmpty(identity.EdgeSecret) ? null : identity.EdgeSecret;
        _trusted = (identity.TrustedProxies ?? []).Select(static cidr => IPNetwork.Parse(cidr)).ToArray();
        _siteHosts = new SiteHostPolicy(options.SiteHosts);
    }

    public ClientInfo Resolve(HttpContext context)
    {
        var request = context.Request;
        var peer = Normalize(context.Connection.RemoteIpAddress);

        var host = request.Headers.Host.Count == 1 ? request.Headers.Host[0] : null;
        if (_edge == EdgeKind.Direct || peer is null || !IsTrusted(peer) || !SecretMatches(request.Headers))
        {
            return new ClientInfo(peer?.ToString(), null, null, request.IsHttps, FromTrustedEdge: false, _siteHosts.Admit(host, fromTrustedEdge: false));
        }

        var headers = request.Headers;
        var client = _edge switch
        {
            EdgeKind.CloudflareWorker => FromHeaders(headers, EdgeHeaders.WorkerClientIp, EdgeHeaders.WorkerCountry, EdgeHeaders.WorkerRegion, EdgeHeaders.WorkerProto, peer, request.IsHttps),
            EdgeKind.Cloudflare => FromHeaders(headers, EdgeHeaders.CloudflareConnectingIp, EdgeHeaders.CloudflareCountry, EdgeHeaders.CloudflareRegion, EdgeHeaders.ForwardedProto, peer, request.IsHttps),
            EdgeKind.GoogleLoadBalancer => FromGoogleLoadBalancer(headers, peer, request.IsHttps),
            EdgeKind.ReverseProxy => FromReverseProxy(headers, peer, request.IsHttps),
            _ => new ClientInfo(peer.ToString(), null, null, request.IsHttps, FromTrustedEdge: false),
        };

        // A Worker subrequest carries the origin's Host, so the Worker names the site's; a local proxy may too. Other
        // edges pass the visitor's Host on, which they route by.
        var forwardedHost = _edge switch
        {
            EdgeKind.CloudflareWorker => headers[EdgeHeaders.WorkerHost],
            EdgeKind.ReverseProxy => headers[EdgeHeaders.ForwardedHost],
            _ => default,
        };
        return client with { SiteHost = _siteHosts.Admit(forwardedHost.Count == 1 ? forwardedHost[0] : host, fromTrustedEdge: client.FromTrustedEdge) };
    }

    internal bool IsTrusted(IPAddress peer)
    {
        foreach (var network in _trusted)
        {
            if (network.Contains(peer))
            {
                return true;
            }
        }

        return false;
    }

    private bool SecretMatches(IHeaderDictionary headers)
    {
        if (_secret is null)
        {
            return true;
        }

        var presented = headers[EdgeHeaders.Secret];
        if (presented.Count != 1 || presented[0] is not { } value)
        {
            return false;
        }

        // Constant time over the bytes, so response timing does not reveal how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(
            MemoryMarshal.AsBytes(value.AsSpan()),
            MemoryMarshal.AsBytes(_secret.AsSpan()));
    }

    private ClientInfo FromHeaders(IHeaderDictionary headers, string ipHeader, string countryHeader, string regionHeader, string protoHeader, IPAddress peer, bool socketHttps)
    {
        var ip = SingleIp(headers[ipHeader]) ?? peer.ToString();
        var (countryRegion, country) = _geo.Get(headers[countryHeader], headers[regionHeader]);
        return new ClientInfo(ip, countryRegion, country, IsHttps(headers[protoHeader], socketHttps), FromTrustedEdge: true);
    }

    private ClientInfo FromGoogleLoadBalancer(IHeaderDictionary headers, IPAddress peer, bool socketHttps)
    {
        // The ALB appends "<client ip>,<load balancer ip>" to whatever the client sent: the client is second from the right.
        var ip = ForwardedForEntryFromRight(headers[EdgeHeaders.ForwardedFor], 1) ?? peer.ToString();
        var (countryRegion, country) = _geo.Get(headers[EdgeHeaders.GclbCountry], headers[EdgeHeaders.GclbRegion]);
        return new ClientInfo(ip, countryRegion, country, IsHttps(headers[EdgeHeaders.ForwardedProto], socketHttps), FromTrustedEdge: true);
    }

    private ClientInfo FromReverseProxy(IHeaderDictionary headers, IPAddress peer, bool socketHttps)
    {
        var ip = FirstUntrustedFromRight(headers[EdgeHeaders.ForwardedFor]) ?? peer.ToString();
        var geo = headers[EdgeHeaders.ForwardedCountryRegion] is { Count: 1 } combined
            ? _geo.GetCombined(combined[0])
            : _geo.Get(headers[EdgeHeaders.ForwardedCountry], headers[EdgeHeaders.ForwardedRegion]);
        return new ClientInfo(ip, geo.CountryRegion, geo.Country, IsHttps(headers[EdgeHeaders.ForwardedProto], socketHttps), FromTrustedEdge: true);
    }

    private static bool IsHttps(StringValues proto, bool socketHttps)
    {
        if (proto.Count == 0)
        {
            return socketHttps;
        }

        // A chain of proxies lists one scheme per hop; the first is the visitor's.
        var first = proto[0].AsSpan();
        var comma = first.IndexOf(',');
        if (comma >= 0)
        {
            first = first[..comma];
        }

        return first.Trim().Equals("https", StringComparison.OrdinalIgnoreCase);
    }

    private static string? SingleIp(StringValues values)
    {
        if (values.Count != 1 || values[0] is not { Length: > 0 and <= 64 } value)
        {
            return null;
        }

        var span = value.AsSpan().Trim();
        return IPAddress.IsValid(span) ? (span.Length == value.Length ? value : span.ToString()) : null;
    }

    internal static string? ForwardedForEntryFromRight(StringValues values, int skip)
    {
        // Several X-Forwarded-For header lines are one list in order.
        for (var v = values.Count - 1; v >= 0; v--)
        {
            var list = values[v].AsSpan();
            while (true)
            {
                var comma = list.LastIndexOf(',');
                var entry = (comma < 0 ? list : list[(comma + 1)..]).Trim();
                if (skip == 0)
                {
                    return IPAddress.IsValid(entry) ? entry.ToString() : null;
                }

                skip--;
                if (comma < 0)
                {
                    break;
                }

                list = list[..comma];
            }
        }

        return null;
    }

    private string? FirstUntrustedFromRight(StringValues values)
    {
        string? leftmost = null;
        for (var v = values.Count - 1; v >= 0; v--)
        {
            var list = values[v].AsSpan();
            while (true)
            {
                var comma = list.LastIndexOf(',');
                var entry = (comma < 0 ? list : list[(comma + 1)..]).Trim();
                if (!IPAddress.TryParse(entry, out var address))
                {
                    // Garbage in the chain: nothing to the left of it can be believed.
                    return leftmost;
                }

                leftmost = entry.ToString();
                if (!IsTrusted(Normalize(address)!))
                {
                    return leftmost;
                }

                if (comma < 0)
                {
                    break;
                }

                list = list[..comma];
            }
        }

        return leftmost;
    }

    private static IPAddress? Normalize(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
