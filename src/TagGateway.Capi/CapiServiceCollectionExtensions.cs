using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace TagGateway.Capi;

/// <summary>Registration of the CAPI module; off (and free) unless a destination is configured in section <c>Capi</c>.</summary>
public static class CapiServiceCollectionExtensions
{
    public static IServiceCollection AddTagGatewayCapi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        // Off until destinations exist: the host then copies no hit bodies at all.
        services.TryAddSingleton(new CapiHitSink(enabled: false));
        return services;
    }
}
