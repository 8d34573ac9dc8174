using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace TagGateway.Capi;

/// <summary>The module's HTTP surface; the host places each group on its listener.</summary>
public static class CapiEndpoints
{
    /// <summary>The server-to-server ingest endpoint, on the public listener (outside the measurement path).</summary>
    public static RouteGroupBuilder MapCapiPublic(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGroup("/capi");
    }

    /// <summary>Dead letters, replay and match quality, on the management listener.</summary>
    public static RouteGroupBuilder MapCapiManagement(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGroup("/capi");
    }
}
