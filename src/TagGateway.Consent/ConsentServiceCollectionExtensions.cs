using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Management;
using TagGateway.Consent.Policy;

namespace TagGateway.Consent;

/// <summary>Registration of the consent enforcement services.</summary>
public static class ConsentServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IConsentPolicy"/>, <see cref="IConsentRecorder"/>, the audit-log writer and the options bound
    /// from the <c>Consent</c> section of <paramref name="configuration"/>, validated at start (the host refuses to start on
    /// a bad configuration). Idempotent.
    /// </summary>
    public static IServiceCollection AddTagGatewayConsent(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // A second call would bind the section twice; the first registration wins.
        if (services.Any(d => d.ServiceType == typeof(ConsentRegistrationMarker)))
        {
            return services;
        }

        services.AddSingleton<ConsentRegistrationMarker>();

        services.AddOptionsWithValidateOnStart<ConsentOptions>()
            .Bind(configuration.GetSection(ConsentOptions.SectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsentOptions>, ConsentOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsentOptions>, ConsentOptionsCrossFieldValidator>());

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConsentMetrics>();
        services.TryAddSingleton<IConsentPolicy, ConsentPolicy>();
        services.TryAddSingleton<ConsentLogQueue>();
        services.TryAddSingleton<IConsentRecorder, ConsentRecorder>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ConsentLogWriter>());

        // The explain endpoint's wire types, ahead of any reflection resolver.
        services.Configure<JsonOptions>(options =>
        {
            if (!options.SerializerOptions.TypeInfoResolverChain.Contains(ConsentJsonContext.Default))
            {
                options.SerializerOptions.TypeInfoResolverChain.Insert(0, ConsentJsonContext.Default);
            }
        });

        return services;
    }

    private sealed class ConsentRegistrationMarker;
}
