using System.Collections.Frozen;

namespace TagGateway.Forwarding;

/// <summary>Which headers cross the gateway, in each direction. The lists follow Google's tag gateway library.</summary>
internal static class HeaderRules
{
    /// <summary>Request headers never sent upstream (hop-by-hop, credentials, and every edge or forwarding header).</summary>
    private static readonly FrozenSet<string> DroppedRequestHeaders = new[]
    {
        // Hop-by-hop and framing: the upstream connection has its own.
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Host", "Content-Length", "Expect",
        // Credentials that belong to the site, never to Google.
        "Authorization", "Proxy-Authorization", "X-Api-Key",
        // Rebuilt from the Google cookies only.
        "Cookie",
        // Forwarding and edge headers: replaced by what the gateway resolved and believes.
        "Forwarded", "X-Real-IP", "True-Client-IP", "X-Client-IP", "CDN-Loop", "Via",
        "X-Cloud-Trace-Context", "traceparent", "tracestate",
        // Other names for the client's address, and path or method overrides some servers honour (hostile suite).
        "Client-IP", "X-Cluster-Client-IP", "Fastly-Client-IP", "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly string[] DroppedRequestPrefixes = ["X-Forwarded-", "CF-", "X-Gclb-", "X-TagGateway-"];

    /// <summary>Response headers never relayed to the browser.</summary>
    private static readonly FrozenSet<string> DroppedResponseHeaders = new[]
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Alt-Svc", "Server",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static bool IsDroppedRequestHeader(string name)
    {
        if (DroppedRequestHeaders.Contains(name))
        {
            return true;
        }

        foreach (var prefix in DroppedRequestPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsDroppedResponseHeader(string name) => DroppedResponseHeaders.Contains(name);

    /// <summary>Whether a Connection header lists <paramref name="name"/> as one of its tokens.</summary>
    public static bool IsNamedIn(Microsoft.Extensions.Primitives.StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            var tokens = value.AsSpan();
            foreach (var range in tokens.Split(','))
            {
                if (tokens[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
