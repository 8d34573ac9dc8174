using TagGateway.Observability;

namespace TagGateway.Management;

/// <summary>Health, readiness and metrics, on the management listener only.</summary>
internal static class ManagementEndpoints
{
    public static RouteGroupBuilder MapManagement(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(string.Empty).WithMetadata(new ListenerMetadata(ListenerKind.Management));

        // Liveness: the process answers.
        group.MapGet("/healthz", static () => TypedResults.Text("ok"));

        // Readiness: started and not draining, so a load balancer stops sending before shutdown.
        group.MapGet("/readyz", static (IHostApplicationLifetime lifetime) =>
            lifetime.ApplicationStarted.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested
                ? Results.Text("ready")
                : Results.Text("not ready", statusCode: StatusCodes.Status503ServiceUnavailable));

        group.MapGet("/metrics", static (PrometheusExporter exporter) =>
            TypedResults.Text(exporter.Render(), "text/plain; version=0.0.4; charset=utf-8"));

        return group;
    }
}
