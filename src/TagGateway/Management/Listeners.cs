using System.Net;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TagGateway.Configuration;

namespace TagGateway.Management;

/// <summary>Which listener a connection arrived on. Decided per connection, never from a Host header a client controls.</summary>
internal enum ListenerKind
{
    Public,
    Management,
    DemoUpstream,
}

/// <summary>Marks an endpoint as served on one listener only; on any other it does not exist.</summary>
internal sealed record ListenerMetadata(ListenerKind Kind);

/// <summary>Kestrel endpoints for the public, management and demo listeners, each tagging its connections.</summary>
internal sealed class Listeners
{
    private static readonly object ItemKey = new();
    private readonly List<(ListenerKind Kind, ListenOptions Options)> _bound = [];

    /// <summary>The endpoints actually bound (port 0 resolved), in the order public, management, demo.</summary>
    public IPEndPoint? EndPointOf(ListenerKind kind)
    {
        foreach (var (k, options) in _bound)
        {
            if (k == kind)
            {
                return options.IPEndPoint;
            }
        }

        return null;
    }

    public void Configure(KestrelServerOptions kestrel, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(options);
        Listen(kestrel, ListenerKind.Public, options.PublicUrl);
        Listen(kestrel, ListenerKind.Management, options.ManagementUrl);
        if (options.Demo.Enabled is true)
        {
            Listen(kestrel, ListenerKind.DemoUpstream, options.Demo.UpstreamUrl);
        }
    }

    public static ListenerKind KindOf(HttpContext context)
    {
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        return items is not null && items.TryGetValue(ItemKey, out var kind) && kind is ListenerKind known ? known : ListenerKind.Public;
    }

    private void Listen(KestrelServerOptions kestrel, ListenerKind kind, string url)
    {
        var uri = new Uri(url);
        var address = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "0.0.0.0" or "*" or "+" => IPAddress.Any,
            _ => IPAddress.Parse(uri.Host.Trim('[', ']')),
        };

        kestrel.Listen(address, uri.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(next => connection =>
            {
                connection.Items[ItemKey] = kind;
                return next(connection);
            });
            _bound.Add((kind, listen));
        });
    }
}
