using Microsoft.Extensions.Primitives;
using TagGateway.ClientIdentity;

namespace TagGateway.Forwarding;

/// <summary>Receives the headers that go upstream, in the order they are decided.</summary>
internal interface IOutboundHeaderSink
{
    /// <summary>A header; <paramref name="isContent"/> for a <c>Content-*</c> header (sent only with a body).</summary>
    void Add(string name, StringValues values, bool isContent);
}

/// <summary>
/// Which request headers go upstream, decided once for both clients: the visitor's headers minus hop-by-hop,
/// credentials and edge headers (<see cref="HeaderRules"/>), Google's cookies only, then the client's address and
/// location as GTG adds them.
/// </summary>
internal static class OutboundHeaders
{
    public static void Write<TSink>(HttpRequest request, in HitUpstreamRequest upstream, ref TSink sink)
        where TSink : IOutboundHeaderSink, allows ref struct
    {
        var hasBody = upstream.HasBody;
        var connection = request.Headers.Connection;
        foreach (var (name, values) in request.Headers)
        {
            // Headers the client named in Connection are hop-by-hop too (RFC 9110 7.6.1).
            if (HeaderRules.IsDroppedRequestHeader(name) || HeaderRules.IsNamedIn(connection, name))
            {
                continue;
            }

            var isContent = name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase);
            if (!isContent || hasBody)
            {
                sink.Add(name, values, isContent);
            }
        }

        // Only Google's own first-party cookies go to Google.
        var cookies = request.Headers.Cookie;
        if (cookies.Count == 1)
        {
            if (cookies[0] is { } header && GoogleCookieFilter.Filter(header) is { } kept)
            {
                sink.Add("Cookie", kept, isContent: false);
            }
        }
        else if (cookies.Count > 1)
        {
            AddJoinedCookies(cookies, ref sink);
        }

        var client = upstream.Client;
        if (upstream.ForwardClientIp && client.IpText is not null)
        {
            sink.Add(EdgeHeaders.ForwardedFor, client.IpText, isContent: false);
        }

        if (client.CountryRegion is not null)
        {
            sink.Add(EdgeHeaders.ForwardedCountryRegion, client.CountryRegion, isContent: false);
            if (client.Country is not null && ReferenceEquals(client.Country, client.CountryRegion))
            {
                // Only the country is known: community proxies send it on its own as well.
                sink.Add(EdgeHeaders.ForwardedCountry, client.Country, isContent: false);
            }
        }
    }

    /// <summary>Several Cookie headers (HTTP/2 browsers split them) go as one, joined by "; " (RFC 6265 5.4).</summary>
    private static void AddJoinedCookies<TSink>(StringValues cookies, ref TSink sink)
        where TSink : IOutboundHeaderSink, allows ref struct
    {
        string? joined = null;
        foreach (var header in cookies)
        {
            if (header is not null && GoogleCookieFilter.Filter(header) is { } kept)
            {
                joined = joined is null ? kept : string.Concat(joined, "; ", kept);
            }
        }

        if (joined is not null)
        {
            sink.Add("Cookie", joined, isContent: false);
        }
    }
}
