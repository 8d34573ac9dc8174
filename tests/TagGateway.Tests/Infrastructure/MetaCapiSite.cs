using Microsoft.AspNetCore.Http;

namespace TagGateway.Tests.Infrastructure;

/// <summary>
/// A gateway with the CAPI module sending to a loopback Meta: fake Google, fake Meta (answers events_received), a
/// journal in its own temporary folder, merge window 0 so every event goes out at once. Disposing stops all three
/// and deletes the journal.
/// </summary>
internal sealed class MetaCapiSite : IAsyncDisposable
{
    private MetaCapiSite(FakeUpstream google, FakeUpstream meta, string store, GatewayInstance gateway)
    {
        Google = google;
        Meta = meta;
        Store = store;
        Gateway = gateway;
    }

    public FakeUpstream Google { get; }

    public FakeUpstream Meta { get; }

    public string Store { get; }

    public GatewayInstance Gateway { get; }

    /// <summary>The gateway's settings for this shape (also for tests that start the gateway themselves).</summary>
    public static Dictionary<string, string?> Settings(FakeUpstream google, FakeUpstream meta, string store)
    {
        var settings = GatewayInstance.Settings(google.Origin);
        settings["Capi:Meta:PixelId"] = "1234567890";
        settings["Capi:Meta:AccessToken"] = "meta-site-token";
        settings["Capi:Meta:BaseUrl"] = meta.Origin.ToString().TrimEnd('/');
        settings["Capi:Store:Path"] = store;
        settings["Capi:MergeWindow"] = "00:00:00";
        return settings;
    }

    /// <param name="name">Names the journal's temporary folder.</param>
    /// <param name="configure">Further settings on top of the shape's.</param>
    public static async Task<MetaCapiSite> StartAsync(string name, Action<Dictionary<string, string?>>? configure = null)
    {
        var store = Path.Combine(Path.GetTempPath(), $"tg-{name}-" + Guid.NewGuid().ToString("N"));
        var google = await FakeUpstream.StartAsync();
        var meta = await FakeUpstream.StartAsync(static (context, _) => context.Response.WriteAsync("""{"events_received":1}"""));
        var settings = Settings(google, meta, store);
        configure?.Invoke(settings);
        return new MetaCapiSite(google, meta, store, await GatewayInstance.StartAsync(settings));
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Google.DisposeAsync();
        await Meta.DisposeAsync();
        try
        {
            Directory.Delete(Store, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
