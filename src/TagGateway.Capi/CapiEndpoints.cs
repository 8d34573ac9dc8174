using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TagGateway.Capi.Ingest;
using TagGateway.Capi.Management;

namespace TagGateway.Capi;

/// <summary>The module's HTTP surface; the host places each group on its listener. With the module off both groups are empty.</summary>
public static class CapiEndpoints
{
    /// <summary>The server-to-server ingest endpoint, on the public listener (outside the measurement path): POST /capi/v1/events.</summary>
    public static RouteGroupBuilder MapCapiPublic(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/capi");
        if (endpoints.ServiceProvider.GetService<ServerEventsEndpoint>() is { IsEnabled: true })
        {
            group.MapPost("/v1/events", static (HttpContext context, [FromServices] ServerEventsEndpoint ingest) => ingest.HandleAsync(context));
        }

        return group;
    }

    /// <summary>Dead letters, replay, match quality and store state, on the management listener.</summary>
    public static RouteGroupBuilder MapCapiManagement(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/capi");
        if (endpoints.ServiceProvider.GetService<CapiManagementEndpoints>() is not null)
        {
            // The handlers take the endpoints object from DI (a singleton) and their route values typed.
            group.MapGet("/dead-letters", static (HttpContext context, [FromServices] CapiManagementEndpoints management) => management.ListDeadLettersAsync(context));
            group.MapPost("/dead-letters/replay", static (HttpContext context, [FromServices] CapiManagementEndpoints management) => management.ReplayAllAsync(context));
            group.MapPost("/dead-letters/{id:long}/replay", static (long id, HttpContext context, [FromServices] CapiManagementEndpoints management) => management.ReplayAsync(context, id));
            group.MapGet("/match-quality", static ([FromServices] CapiManagementEndpoints management) => management.MatchQuality());
            group.MapGet("/store", static (HttpContext context, [FromServices] CapiManagementEndpoints management) => management.StoreAsync(context));
            group.MapPost("/google-analytics/validate", static (HttpContext context, [FromServices] CapiManagementEndpoints management) => management.ValidateGoogleAnalyticsAsync(context));
        }

        return group;
    }
}
