using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagGateway.Cookies.Configuration;
using TagGateway.Cookies.Issuing;
using TagGateway.Cookies.PublicSuffix;

namespace TagGateway.Cookies;

/// <summary>Registration of first-party identifier cookies (section <c>Cookies</c>).</summary>
public static class CookieServiceCollectionExtensions
{
    public static IServiceCollection AddTagGatewayCookies(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptionsWithValidateOnStart<FirstPartyCookieOptions>().Bind(configuration.GetSection(FirstPartyCookieOptions.SectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FirstPartyCookieOptions>, FirstPartyCookieOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FirstPartyCookieOptions>, FirstPartyCookieOptionsCrossFieldValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CookieMetrics>();
        services.TryAddSingleton(static provider =>
        {
            var path = provider.GetRequiredService<IOptions<FirstPartyCookieOptions>>().Value.PublicSuffixListPath;
            return path is null ? PublicSuffixList.Embedded() : PublicSuffixList.FromFile(path);
        });
        services.TryAddSingleton(static provider => new IdentifierCookieIssuer(
            provider.GetRequiredService<IOptions<FirstPartyCookieOptions>>(),
            provider.GetRequiredService<PublicSuffixList>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<CookieMetrics>(),
            provider.GetRequiredService<ILogger<IdentifierCookieIssuer>>()));
        return services;
    }
}
