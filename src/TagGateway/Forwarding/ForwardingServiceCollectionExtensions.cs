using Microsoft.Extensions.DependencyInjection.Extensions;
using TagGateway.Configuration;
using TagGateway.Forwarding.Pipelines;

namespace TagGateway.Forwarding;

internal static class ForwardingServiceCollectionExtensions
{
    /// <summary>The client that carries hits upstream, as <c>Gateway:Forwarding:Client</c> says.</summary>
    public static IServiceCollection AddHitUpstreamClient(this IServiceCollection services, ForwardingClient client)
    {
        if (client == ForwardingClient.Pipelines)
        {
            services.TryAddSingleton<PipelinesUpstreamClient>();
            services.TryAddSingleton<IHitUpstreamClient>(static provider => provider.GetRequiredService<PipelinesUpstreamClient>());
        }
        else
        {
            services.TryAddSingleton<IHitUpstreamClient, HttpUpstreamClient>();
        }

        return services;
    }
}
