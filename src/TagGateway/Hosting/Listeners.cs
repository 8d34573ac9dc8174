using System.Net;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TagGateway.Configuration;
using TagGateway.Logging;

namespace TagGateway.Hosting;

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
    private readonly List<ConnectionLimiter> _limiters = [];

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

    /// <summary>The connection ceilings of the public and management listeners (the demo upstream has none).</summary>
    public IReadOnlyList<ConnectionLimiter> Limiters => _limiters;

    public void Configure(KestrelServerOptions kestrel, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(options);
        var services = kestrel.ApplicationServices;
        var logger = services?.GetService<ILoggerFactory>()?.CreateLogger("TagGateway.Connections") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        var time = services?.GetService<TimeProvider>() ?? TimeProvider.System;
        ConnectionLimiter Limiter(ListenerKind kind, int max)
        {
            var limiter = new ConnectionLimiter(kind, max, new WarningGate(time, TimeSpan.FromMinutes(1)), logger);
            _limiters.Add(limiter);
            return limiter;
        }

        Listen(kestrel, ListenerKind.Public, options.PublicUrl, Limiter(ListenerKind.Public, options.Limits.MaxConnections));
        Listen(kestrel, ListenerKind.Management, options.ManagementUrl, Limiter(ListenerKind.Management, options.Limits.MaxManagementConnections));
        if (options.Demo.Enabled is true)
        {
            Listen(kestrel, ListenerKind.DemoUpstream, options.Demo.UpstreamUrl, limiter: null);
        }
    }

    public static ListenerKind KindOf(HttpContext context)
    {
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        return items is not null && items.TryGetValue(ItemKey, out var kind) && kind is ListenerKind known ? known : ListenerKind.Public;
    }

    private void Listen(KestrelServerOptions kestrel, ListenerKind kind, string url, ConnectionLimiter? limiter)
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
            if (limiter is not null)
            {
                // First in the chain: a connection over the limit is closed before Kestrel reads a byte of it.
                listen.Use(next => async connection =>
                {
                    if (!limiter.TryAcquire())
                    {
                        return;
                    }

                    try
                    {
                        await next(connection);
                    }
                    finally
                    {
                        limiter.Release();
                    }
                });
            }

            listen.Use(next => connection =>
            {
                connection.Items[ItemKey] = kind;
                return next(connection);
            });
            _bound.Add((kind, listen));
        });
    }
}
