using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
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
        RouteGroupBuilder group = endpoints.MapGroup("/capi");
        if (endpoints.ServiceProvider.GetService<ServerEventsEndpoint>() is { IsEnabled: true } ingest)
        {
            group.MapPost("/v1/events", (RequestDelegate)ingest.HandleAsync);
        }

        return group;
    }

    /// <summary>Dead letters, replay, match quality and store state, on the management listener.</summary>
    public static RouteGroupBuilder MapCapiManagement(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        RouteGroupBuilder group = endpoints.MapGroup("/capi");
        if (endpoints.ServiceProvider.GetService<CapiManagementEndpoints>() is { } management)
        {
            group.MapGet("/dead-letters", (RequestDelegate)management.ListDeadLettersAsync);
            group.MapPost("/dead-letters/replay", (RequestDelegate)management.ReplayAllAsync);
            group.MapPost("/dead-letters/{id:long}/replay", (RequestDelegate)(context =>
                management.ReplayAsync(context, long.Parse((string)context.Request.RouteValues["id"]!, System.Globalization.CultureInfo.InvariantCulture))));
            group.MapGet("/match-quality", (RequestDelegate)management.MatchQualityAsync);
            group.MapGet("/store", (RequestDelegate)management.StoreAsync);
            group.MapPost("/google-analytics/validate", (RequestDelegate)management.ValidateGoogleAnalyticsAsync);
        }

        return group;
    }
}
