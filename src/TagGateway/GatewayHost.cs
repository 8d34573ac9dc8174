using System.Reflection;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TagGateway.Capi;
using TagGateway.ClientIdentity;
using TagGateway.CommandLine;
using TagGateway.Configuration;
using TagGateway.Consent;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Management;
using TagGateway.Cookies;
using TagGateway.Demo;
using TagGateway.Forwarding;
using TagGateway.Hits;
using TagGateway.Hosting;
using TagGateway.LiveView;
using TagGateway.Management;
using TagGateway.Observability;
using TagGateway.Pipeline;
using TagGateway.Routing;
using TagGateway.Scripts;

namespace TagGateway;

/// <summary>Builds the gateway: the binary's entry point and the integration tests both start it from here.</summary>
public static partial class GatewayHost
{
    /// <summary>Creates the application; throws <see cref="GatewayConfigurationException"/> listing every configuration error.</summary>
    /// <param name="args">Command-line arguments (configuration overrides such as <c>--Gateway:MeasurementPath=/m</c>).</param>
    /// <param name="configure">Lets tests add configuration and replace services (a fake clock) before the build.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Configuration is read once at start-up (options are validated then, and the runtime tables built from them);
        // watching the content root for changes would also cost start-up time, recursively, in a crowded directory.
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);

        // The embedded defaults sit below appsettings.json, environment variables and the command line.
        builder.Configuration.Sources.Insert(0, EmbeddedDefaults());
        configure?.Invoke(builder);

        var options = BindAndValidate(builder.Configuration, out var warnings);
        ResolveDataPaths(builder.Configuration, options);
        ConfigureLogging(builder);
        UseInlineSocketCompletions();

        var listeners = new Listeners();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = options.Forwarding.MaxRequestHeadersBytes;
            kestrel.Limits.MaxRequestLineSize = options.Forwarding.MaxRequestLineBytes;
            kestrel.Limits.MaxRequestBodySize = Math.Max(options.Forwarding.MaxBodyBytes, 1024 * 1024);
            KestrelLimits.Apply(kestrel, options);
            listeners.Configure(kestrel, options);
        });
        // For HTTP/1.1 the socket transport's own threshold decides when a write waits: kept equal to Kestrel's.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(
            static transport => transport.MaxWriteBufferSize = KestrelLimits.ResponseBufferBytes);

        var services = builder.Services;
        services.AddSingleton(listeners);
        // One options instance, bound by the generator and validated above before anything listens.
        services.AddSingleton(options);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(new ConfigurationWarnings(warnings));
        services.TryAddSingleton(TimeProvider.System);

        // Observability: instruments, and their Prometheus rendering for the management listener.
        services.AddMetrics();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<PrometheusExporter>();

        // Routing: which tags, which upstreams, who the visitor is.
        services.AddSingleton(new TagRegistry(options.TagIds));
        services.AddSingleton<UpstreamResolver>();
        services.AddSingleton<ClientInfoResolver>();
        services.AddSingleton<GeolocationHealth>();
        services.AddSingleton<EdgeDiagnostic>();
        services.AddSingleton<MeasurementRequestHandler>();

        // Forwarding and scripts.
        // Upstream TLS trusts the system's roots (tests register their own root before this).
        services.TryAddSingleton(UpstreamTrust.System);
        services.TryAddSingleton<UpstreamClients>();
        services.AddHitUpstreamClient(options.Forwarding.Client);
        services.AddSingleton<HitForwarder>();
        services.AddSingleton<ScriptCache>();
        services.AddSingleton<ScriptFetcher>();
        services.AddSingleton<ScriptMissBudget>();
        services.AddSingleton<ScriptCompressor>();
        services.AddSingleton<ScriptEndpoint>();

        // Consent decided per event, identifier cookies it allows, and the optional conversion-API fan-out of hits.
        services.AddTagGatewayConsent(builder.Configuration);
        services.AddTagGatewayCookies(builder.Configuration);
        services.AddTagGatewayCapi(builder.Configuration);
        services.AddSingleton<ForwardedHitObserver>();

        // The live view's ring of the last requests (always there: the hit path records into it; off, it records nothing).
        services.AddSingleton<LiveRecorder>();
        services.AddSingleton<Capi.Ingest.ICapiIngestObserver, CapiIngestRecorder>();
        services.AddSingleton<SetupCheck>();
        services.AddSingleton(static sp => MemoryBudget.FromRuntime(
            sp.GetRequiredService<Capi.CapiHitSink>().IsEnabled ? sp.GetRequiredService<IOptions<Capi.Configuration.CapiOptions>>().Value.Store : null));
        services.AddSingleton<CapiDeliveryTimes>();

        // The host's lifetime, with the drain on SIGTERM: not ready, serve for ShutdownDelay, then stop accepting and finish in-flight requests.
        services.AddSingleton<ShutdownDrain>();
        services.AddSingleton<IHostLifetime>(static sp => sp.GetRequiredService<ShutdownDrain>());

        if (options.Demo.Enabled is true)
        {
            services.AddSingleton<DemoSite>();
        }

        var app = builder.Build();
        app.Services.GetRequiredService<PrometheusExporter>();
        app.UseListeners();
        app.UseRouting();
        app.UseListenerEndpointFilter();
        var management = app.MapManagement();
        management.MapConsentExplain();
        management.MapCapiManagement();
        if (options.Management.UiEnabled)
        {
            management.MapLiveView();

            // Listening from the start, so deliveries before the page is first opened count.
            app.Services.GetRequiredService<CapiDeliveryTimes>();
        }

        app.MapPublic(options);
        LogStartup(app, options);
        return app;
    }

    private static GatewayOptions BindAndValidate(ConfigurationManager configuration, out List<string> warnings)
    {
        var options = new GatewayOptions();
        var errors = new List<string>();

        // Enum values are checked against their names before any section binds (the binder would stop at the first one,
        // naming the CLR type instead of the allowed values), and keys no option binds are found in every section.
        var (unknown, enumErrors) = KnownKeys.Check(configuration);
        if (enumErrors.Count > 0)
        {
            throw new GatewayConfigurationException(enumErrors);
        }

        try
        {
            configuration.GetSection(GatewayOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // A value of the wrong type (a word where a number belongs) is reported, not thrown at a user.
            throw new GatewayConfigurationException([ex.Message]);
        }

        ApplyDefaults(options);

        // A misspelled key is an error when serving real tags, and a warning in the demo (a first try should still start).
        warnings = [];
        (options.Demo.Enabled is true ? warnings : errors).AddRange(unknown);
        foreach (var validator in new IValidateOptions<GatewayOptions>[] { new GatewayOptionsAttributeValidator(), new GatewayOptionsValidator() })
        {
            var result = validator.Validate(Options.DefaultName, options);
            if (result.Failed)
            {
                errors.AddRange(result.Failures);
            }
        }

        if (errors.Count > 0)
        {
            throw new GatewayConfigurationException(errors);
        }

        if (options.Demo.Enabled is true)
        {
            // The demo answers for Google on loopback: no account and no network needed.
            var demo = options.Demo.UpstreamUrl.TrimEnd('/');
            options.Upstreams.TagGatewayOrigin = demo;
            options.Upstreams.TagManager = demo;
            options.Upstreams.Analytics = demo;
            options.Upstreams.Ads = demo;
        }

        return options;
    }

    /// <summary>
    /// Relative store paths (the CAPI journal, the Redis spill, the consent log) resolve against <c>Gateway:DataPath</c>,
    /// never the working directory (under <c>dotnet run</c> that is the source tree). The modules read absolute paths.
    /// </summary>
    private static void ResolveDataPaths(ConfigurationManager configuration, GatewayOptions options)
    {
        options.DataPath = DataPath.Resolve(options.DataPath);
        var capiDefaults = new Capi.Configuration.CapiOptions();
        var resolved = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Resolve("Capi:Store:Path", capiDefaults.Store.Path);
        Resolve("Capi:Store:Redis:SpillPath", capiDefaults.Store.Redis.SpillPath);
        Resolve("Consent:Log:Path", null);

        // Added last, above every source, so the modules bind the absolute paths (check-config names the original source).
        ((IConfigurationBuilder)configuration).Add(new ResolvedPathsSource(resolved));

        void Resolve(string key, string? fallback)
        {
            var value = configuration[key] is { Length: > 0 } configured ? configured : fallback;
            if (value is not null && !Path.IsPathRooted(value))
            {
                resolved[key] = Path.Combine(options.DataPath, value);
            }
        }
    }

    /// <summary>Defaults that depend on what else was configured (lists are merged by index, so never pre-filled).</summary>
    internal static void ApplyDefaults(GatewayOptions options)
    {
        options.ClientIdentity.TrustedProxies ??= ["127.0.0.1/32", "::1/128"];
        options.Demo.Enabled ??= options.TagIds.Count == 0;
        if (options.Demo.Enabled is true && options.TagIds.Count == 0)
        {
            options.TagIds.AddRange(DemoOptions.TagIds);
        }
    }

    private static void ConfigureLogging(WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        var formatter = builder.Configuration["Logging:Console:FormatterName"];
        // Unset: readable lines on a terminal (and in Development), JSON when stdout goes to a collector (journald, Docker).
        var json = formatter is not null ? formatter == "json" : !builder.Environment.IsDevelopment() && Console.IsOutputRedirected;
        if (json)
        {
            builder.Logging.AddJsonConsole(static o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ");
        }
        else
        {
            builder.Logging.AddSimpleConsole(static o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }

        // A flood of refused requests must not stall request threads on a slow stdout: past the queue, lines are dropped
        // (the console logger says how many), never waited for.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(static o => o.QueueFullMode = Microsoft.Extensions.Logging.Console.ConsoleLoggerQueueFullMode.DropWrite);
    }

    /// <summary>The runtime's switch for running socket completions on its epoll threads.</summary>
    internal const string InlineSocketCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Socket completions run on the runtime's epoll threads instead of hopping to the thread pool: the upstream's answer to
    /// a hit is relayed on the thread that read it. Measured on the load harness's hits: context switches per hit 1.3-1.9
    /// down to 0.4-0.7, CPU per hit down 11-15%. The runtime reads the variable once, when the first socket is made, so it is
    /// set before Kestrel or any client opens one; an operator's own value (0 turns it off) is kept. The code that runs
    /// after an outbound read must therefore not block or spin: the one heavy step there, compressing a fetched script,
    /// moves to the thread pool first (<see cref="Scripts.ScriptFetcher"/>).
    /// </summary>
    private static void UseInlineSocketCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletionsVariable, "1");
        }
    }

    /// <summary>The measurement path is handled before routing (it is the hot path); the rest is routed.</summary>
    private static void UseListeners(this WebApplication app)
    {
        var handler = app.Services.GetRequiredService<MeasurementRequestHandler>();
        var demo = app.Services.GetService<DemoSite>();
        app.Use((context, next) =>
        {
            switch (Listeners.KindOf(context))
            {
                case ListenerKind.DemoUpstream:
                    return demo!.ServeUpstreamAsync(context);
                case ListenerKind.Public when handler.TryHandle(context, out var handled):
                    return handled;
                default:
                    return next(context);
            }
        });
    }

    /// <summary>An endpoint exists only on the listener its metadata names: management stays off the public port.</summary>
    private static void UseListenerEndpointFilter(this WebApplication app) => app.Use((context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ListenerMetadata>() is { } metadata && metadata.Kind != Listeners.KindOf(context))
        {
            context.SetEndpoint(null);
        }

        return next(context);
    });

    /// <summary>Public endpoints outside the measurement path (the CDN routes only the measurement path here).</summary>
    private static void MapPublic(this WebApplication app, GatewayOptions options)
    {
        var group = app.MapGroup(string.Empty).WithMetadata(new ListenerMetadata(ListenerKind.Public));
        // The live view sees each ingest request once answered (CapiIngestRecorder), refusals included.
        ((IEndpointConventionBuilder)group.MapCapiPublic()).Add(CapiIngestRecorder.Wrap);
        if (options.Demo.Enabled is true)
        {
            group.MapDemo();
        }
    }

    private static void LogStartup(WebApplication app, GatewayOptions options)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TagGateway");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var listeners = app.Services.GetRequiredService<Listeners>();
            var (publicEndPoint, managementEndPoint) = (listeners.EndPointOf(ListenerKind.Public), listeners.EndPointOf(ListenerKind.Management));
            var tags = string.Join(", ", options.TagIds);
            Log.Started(logger, publicEndPoint, managementEndPoint, options.MeasurementPath, options.Mode, tags);
            LogBanner(app, logger, options);
            foreach (var warning in app.Services.GetRequiredService<ConfigurationWarnings>().Items)
            {
                Log.ConfigurationWarning(logger, warning);
            }

            if (options.Demo.Enabled is true)
            {
                var demoEndPoint = listeners.EndPointOf(ListenerKind.DemoUpstream);
                Log.DemoMode(logger, demoEndPoint);
            }
            else if (!GeolocationHealth.EdgeCanSupply(options.ClientIdentity.Edge))
            {
                Log.NoGeolocation(logger, options.ClientIdentity.Edge);
            }

            var memory = app.Services.GetRequiredService<MemoryBudget>();
            if (memory.IsOverCommitted)
            {
                Log.MemoryOverCommitted(logger, MemoryBudget.MiB(memory.CapiBytes), MemoryBudget.MiB(memory.AvailableBytes));
            }
        });
    }

    /// <summary>What this instance does, one line each, so the first screen of a start answers "what is on?".</summary>
    private static void LogBanner(WebApplication app, ILogger logger, GatewayOptions options)
    {
        var upstream = options.Mode == GatewayMode.TagGateway
            ? options.Upstreams.TagGatewayOrigin
            : $"scripts {options.Upstreams.TagManager}, hits {options.Upstreams.Analytics}, ads {options.Upstreams.Ads}";
        Log.Upstream(logger, options.Mode, upstream);
        var geolocation = GeolocationHealth.EdgeCanSupply(options.ClientIdentity.Edge);
        Log.Edge(logger, options.ClientIdentity.Edge, geolocation ? "expected from the edge" : "none (every visitor gets the strict defaults)", options.ClientIdentity.EdgeSecret is { Length: > 0 } ? "required" : "not set");

        var consent = app.Services.GetRequiredService<IOptions<ConsentOptions>>().Value;
        string strict = Describe(consent.StrictDefaults), other = Describe(consent.OtherDefaults);
        Log.Consent(logger, strict, other, consent.RegionDefaults.Count, consent.Log.Mode);

        // The Capi module registers itself only when a destination is configured; its options say which.
        var capi = app.Services.GetService<IOptions<Capi.Configuration.CapiOptions>>()?.Value;
        if (capi is null || app.Services.GetService<IConfiguration>() is not { } configuration)
        {
            Log.CapiOff(logger);
        }
        else
        {
            (string Name, bool Enabled)[] destinations = [("Meta", capi.Meta.Enabled), ("TikTok", capi.TikTok.Enabled), ("LinkedIn", capi.LinkedIn.Enabled), ("GoogleAds", capi.GoogleAds.Enabled)];
            var on = destinations.Where(d => d.Enabled && configuration.GetSection("Capi:" + d.Name).Exists()).Select(static d => d.Name).ToArray();
            if (on.Length == 0)
            {
                Log.CapiOff(logger);
            }
            else
            {
                var store = capi.Store.Kind == Capi.Configuration.CapiStoreKind.Redis ? capi.Store.Redis.Configuration + " (spill " + capi.Store.Redis.SpillPath + ")" : capi.Store.Path;
                var names = string.Join(", ", on);
                Log.Capi(logger, names, capi.Store.Kind, store);
            }
        }

        Log.ManagementUrl(logger, options.ManagementUrl);

        static string Describe(RegionDefaultOptions d) =>
            $"ad_storage {d.AdStorage}, analytics_storage {d.AnalyticsStorage}, ad_user_data {d.AdUserData}, ad_personalization {d.AdPersonalization}";
    }

    private static JsonStreamConfigurationSource EmbeddedDefaults() => new()
    {
        Stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("TagGateway.appsettings.json")
            ?? throw new InvalidOperationException("The embedded default configuration is missing."),
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "TagGateway listening on {Public} (management {Management}), measurement path {Path}, mode {Mode}, tags {Tags}")]
        public static partial void Started(ILogger logger, System.Net.IPEndPoint? @public, System.Net.IPEndPoint? management, string path, GatewayMode mode, string tags);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Demo mode: the upstream is the built-in stand-in for Google on {Upstream}. Set Gateway__Demo__Enabled=false to serve real tags.")]
        public static partial void DemoMode(ILogger logger, System.Net.IPEndPoint? upstream);

        [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Configuration: {Warning} (the demo starts anyway; serving real tags, this stops the start).")]
        public static partial void ConfigurationWarning(ILogger logger, string warning);

        [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Upstream ({Mode} mode): {Upstream}")]
        public static partial void Upstream(ILogger logger, GatewayMode mode, string upstream);

        [LoggerMessage(EventId = 22, Level = LogLevel.Information, Message = "Edge: {Edge}; visitor geolocation {Geolocation}; edge secret {Secret}")]
        public static partial void Edge(ILogger logger, EdgeKind edge, string geolocation, string secret);

        [LoggerMessage(EventId = 23, Level = LogLevel.Information, Message = "Consent defaults without a signal: strict regions (EEA, GB, CH, unknown) {Strict}; elsewhere {Other}; {Overrides} region overrides; consent log {LogMode}")]
        public static partial void Consent(ILogger logger, string strict, string other, int overrides, TagGateway.Consent.Configuration.ConsentLogMode logMode);

        [LoggerMessage(EventId = 24, Level = LogLevel.Information, Message = "CAPI destinations on: {Destinations}; store {Kind} at {Store}")]
        public static partial void Capi(ILogger logger, string destinations, TagGateway.Capi.Configuration.CapiStoreKind kind, string store);

        [LoggerMessage(EventId = 25, Level = LogLevel.Information, Message = "CAPI off: no destination configured (Capi:Meta, Capi:TikTok, Capi:LinkedIn, Capi:GoogleAds)")]
        public static partial void CapiOff(ILogger logger);

        [LoggerMessage(EventId = 26, Level = LogLevel.Information, Message = "Management (health, readiness, metrics): {Url}")]
        public static partial void ManagementUrl(ILogger logger, string url);

        [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Gateway:ClientIdentity:Edge is {Edge}: no visitor geolocation reaches the gateway, so every visitor gets the strictest consent default (an unknown region counts as strict, as the EEA does). Set Gateway:ClientIdentity:Edge to the edge in front of the gateway (Cloudflare, CloudflareWorker, GoogleLoadBalancer, ReverseProxy); edge-config/ shows how each passes the visitor's location.")]
        public static partial void NoGeolocation(ILogger logger, EdgeKind edge);

        [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Memory: the CAPI store's budgets (Capi:Store:MaxMemoryBytes plus Capi:Store:LedgerMaxBytes, {Budgets}) are more than half of what the GC may use ({Available}: the heap limit, 75 % of a container's memory limit, or the machine's memory). A burst of conversions can then run the heap out, and the gateway exits to be restarted. Give the process at least twice the budgets' memory, or lower the budgets.")]
        public static partial void MemoryOverCommitted(ILogger logger, string budgets, string available);
    }
}
