using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TagGateway.TestKit.Loopback;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an ephemeral port, standing in for something the gateway calls (Google,
/// a conversion API, a redirect target). A fake maps its routes in <see cref="Map"/>; the host, the port and the
/// shutdown are the same for every fake.
/// </summary>
public abstract class LoopbackServer : IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The server's origin, <c>http://127.0.0.1:port</c>, without a trailing slash.</summary>
    public string Url { get; private set; } = string.Empty;

    /// <summary><see cref="Url"/> as a <see cref="Uri"/>.</summary>
    public Uri Origin { get; private set; } = null!;

    /// <summary>Builds a slim host without log output, lets <paramref name="server"/> map its routes, and starts listening.</summary>
    protected static Task<T> ListenAsync<T>(T server)
        where T : LoopbackServer => ListenAsync(server, static _ => { });

    /// <summary>As <see cref="ListenAsync{T}(T)"/>, with the listener configured further (HTTPS, protocols).</summary>
    protected static async Task<T> ListenAsync<T>(T server, Action<ListenOptions> listen)
        where T : LoopbackServer
    {
        ArgumentNullException.ThrowIfNull(server);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, listen));
        var app = builder.Build();
        server.Map(app);
        await app.StartAsync();
        server._app = app;
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Origin = new Uri(server.Url);
        return server;
    }

    /// <summary>The fake's routes (or one catch-all <c>app.Run</c>).</summary>
    protected abstract void Map(WebApplication app);

    public virtual async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
