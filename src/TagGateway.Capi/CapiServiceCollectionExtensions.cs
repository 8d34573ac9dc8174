using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Delivery;
using TagGateway.Capi.Delivery.GoogleAds;
using TagGateway.Capi.Delivery.GoogleAnalytics;
using TagGateway.Capi.Delivery.Http;
using TagGateway.Capi.Delivery.LinkedIn;
using TagGateway.Capi.Delivery.Meta;
using TagGateway.Capi.Delivery.TikTok;
using TagGateway.Capi.GapFill;
using TagGateway.Capi.Ingest;
using TagGateway.Capi.Management;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Quality;
using TagGateway.Capi.Storage;
using TagGateway.Capi.Storage.Journal;
using TagGateway.Capi.Storage.Redis;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Policy;

namespace TagGateway.Capi;

/// <summary>Registration of the CAPI module; off (and free) unless a destination is configured in section <c>Capi</c>.</summary>
public static class CapiServiceCollectionExtensions
{
    public static IServiceCollection AddTagGatewayCapi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(static d => d.ServiceType == typeof(CapiHitSink)))
        {
            return services;
        }

        var section = configuration.GetSection(CapiOptions.SectionName);
        var probe = new CapiOptions();
        string? bindError = null;
        try
        {
            section.Bind(probe);
        }
        catch (InvalidOperationException ex)
        {
            // A value of the wrong type: reported by validation at start, like any other configuration error.
            bindError = "Capi: " + ex.Message;
        }

        if (bindError is null && !probe.AnyDestinationConfigured)
        {
            // Off until destinations exist: the host then copies no hit bodies, and nothing here runs or opens a file.
            services.AddSingleton(new CapiHitSink(enabled: false));
            return services;
        }

        var options = services.AddOptionsWithValidateOnStart<CapiOptions>();
        if (bindError is not null)
        {
            services.AddSingleton<IValidateOptions<CapiOptions>>(new FailingValidator(bindError));
            services.AddSingleton(new CapiHitSink(enabled: false));
            return services;
        }

        options.Bind(section);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CapiOptions>, CapiOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CapiOptions>, CapiOptionsCrossFieldValidator>());
        services.AddSingleton(static sp => sp.GetRequiredService<IOptions<CapiOptions>>().Value);

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(new CapiHitSink(enabled: true, probe.HitQueueCapacity));
        services.AddSingleton<CapiMetrics>();
        services.AddSingleton(static sp => new MatchQualityTracker(sp.GetRequiredService<CapiMetrics>()));
        services.AddSingleton(static sp => new EventNameMap(sp.GetRequiredService<CapiOptions>()));
        services.AddSingleton(static sp => new EventFactory(
            sp.GetRequiredService<CapiOptions>(),
            sp.GetRequiredService<EventNameMap>(),
            sp.GetRequiredService<IConsentPolicy>(),
            sp.GetRequiredService<IConsentRecorder>(),
            sp.GetRequiredService<ILogger<EventFactory>>(),
            sp.GetRequiredService<CapiMetrics>()));
        services.AddSingleton<ICapiStore>(static sp =>
        {
            var o = sp.GetRequiredService<CapiOptions>();
            ICapiStore store = o.Store.Kind == CapiStoreKind.Redis && RedisStoreFeature.IsSupported
                ? new RedisCapiStore(o, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RedisCapiStore>>(), sp.GetRequiredService<CapiMetrics>())
                : new JournalStore(o.Store, o.DedupTtl, o.MergeWindow, sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILogger<JournalStore>>(), sp.GetRequiredService<CapiMetrics>());

            // Google Analytics' events wait the gap-fill window (the merge window is part of it) for the browser's own hit.
            if (o.GoogleAnalytics.IsConfigured)
            {
                store.SetReadyDelay(CapiDestination.GoogleAnalytics, o.GoogleAnalytics.GapFillWindow - o.MergeWindow);
            }

            return store;
        });
        services.AddSingleton(static sp => GapFillGate.Create(sp.GetRequiredService<CapiOptions>(), sp.GetRequiredService<EventNameMap>(),
            sp.GetRequiredService<CapiMetrics>(), sp.GetRequiredService<ILogger<GapFillGate>>()));
        services.AddSingleton(static sp => new HitPipeline(sp.GetRequiredService<CapiHitSink>(), sp.GetRequiredService<EventFactory>(), sp.GetRequiredService<ICapiStore>(),
            sp.GetRequiredService<CapiMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<HitPipeline>>(), sp.GetRequiredService<GapFillGate>()));
        services.AddSingleton<ServerEventsEndpoint>();
        services.AddSingleton<CapiManagementEndpoints>();

        foreach (var destination in EventFactory.ConfiguredDestinations(probe))
        {
            AddDestination(services, destination, probe);
        }

        services.AddSingleton<IHostedService, CapiRuntime>();
        return services;
    }

    private static void AddDestination(IServiceCollection services, CapiDestination destination, CapiOptions probe)
    {
        DestinationOptions options = destination switch
        {
            CapiDestination.Meta => probe.Meta,
            CapiDestination.TikTok => probe.TikTok,
            CapiDestination.LinkedIn => probe.LinkedIn,
            CapiDestination.GoogleAnalytics => probe.GoogleAnalytics,
            _ => probe.GoogleAds,
        };

        services.AddKeyedSingleton<DestinationClient>(destination, static (sp, key) =>
        {
            var d = (CapiDestination)key!;
            var o = sp.GetRequiredService<CapiOptions>();
            var factory = sp.GetRequiredService<IHttpClientFactory>();
            var map = sp.GetRequiredService<EventNameMap>();
            return d switch
            {
                CapiDestination.Meta => new MetaClient(factory, o.Meta, SecretReader.AccessToken(o.Meta, "Meta"), map, sp.GetRequiredService<ILogger<MetaClient>>()),
                CapiDestination.TikTok => new TikTokClient(factory, o.TikTok, SecretReader.AccessToken(o.TikTok, "TikTok"), map, sp.GetRequiredService<ILogger<TikTokClient>>()),
                CapiDestination.LinkedIn => new LinkedInClient(factory, o.LinkedIn, SecretReader.AccessToken(o.LinkedIn, "LinkedIn"), map, sp.GetRequiredService<ILogger<LinkedInClient>>()),
                CapiDestination.GoogleAnalytics => new GoogleAnalyticsClient(factory, o.GoogleAnalytics,
                    SecretReader.Secret(o.GoogleAnalytics.ApiSecret, o.GoogleAnalytics.ApiSecretFile, "Capi:GoogleAnalytics:ApiSecret"), map,
                    sp.GetRequiredService<ILogger<GoogleAnalyticsClient>>(), sp.GetRequiredService<TimeProvider>()),
                _ => new GoogleAdsClient(factory, o.GoogleAds, SecretReader.AccessToken(o.GoogleAds, "GoogleAds"), map, sp.GetRequiredService<ILogger<GoogleAdsClient>>(), sp.GetService<GoogleOAuthTokenSource>()),
            };
        });

        services.AddSingleton(sp => new DeliveryWorker(
            sp.GetRequiredKeyedService<DestinationClient>(destination),
            sp.GetRequiredService<ICapiStore>(),
            sp.GetRequiredService<CapiOptions>().Delivery,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<CapiMetrics>(),
            sp.GetRequiredService<MatchQualityTracker>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("TagGateway.Capi.Delivery." + destination),
            sp.GetRequiredService<GapFillGate>()));

        DeliveryResilience.AddDestinationClient(services, destination, options, probe.Delivery);
        if (destination == CapiDestination.GoogleAds && probe.GoogleAds.UsesRefreshToken)
        {
            AddGoogleOAuth(services, probe.GoogleAds);
        }
    }

    private static void AddGoogleOAuth(IServiceCollection services, GoogleAdsOptions google)
    {
        services.AddSingleton(static sp =>
        {
            var o = sp.GetRequiredService<CapiOptions>();

            // Validated on start: the credentials are there once the options resolved.
            var credentials = SecretReader.GoogleOAuth(o.GoogleAds)
                ?? throw new InvalidOperationException("Capi:GoogleAds: the refresh-token flow needs RefreshToken, ClientId and ClientSecret.");
            return new GoogleOAuthTokenSource(sp.GetRequiredService<IHttpClientFactory>(), o.GoogleAds, credentials, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<CapiMetrics>(), sp.GetRequiredService<ILogger<GoogleOAuthTokenSource>>());
        });

        // Like the platforms' clients: no redirect followed (the client secret is in the body), no request logging,
        // and nothing leaves for another origin than the configured token endpoint.
        var builder = services.AddHttpClient(GoogleOAuthTokenSource.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.ConfigurePrimaryHttpMessageHandler(static () => OutboundHandlers.Primary());
        builder.RemoveAllLoggers();
        if (Uri.TryCreate(google.TokenEndpoint, UriKind.Absolute, out var endpoint))
        {
            builder.AddHttpMessageHandler(() => new ConfiguredOriginHandler(endpoint));
        }
    }

    private sealed class FailingValidator(string error) : IValidateOptions<CapiOptions>
    {
        public ValidateOptionsResult Validate(string? name, CapiOptions options) => ValidateOptionsResult.Fail(error);
    }
}
