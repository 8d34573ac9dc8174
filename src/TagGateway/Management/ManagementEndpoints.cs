using TagGateway.ClientIdentity;
using TagGateway.Hosting;
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

        // Readiness: started and not stopping, so a load balancer stops sending during the shutdown delay (ShutdownDrain).
        // The body also says whether visitor geolocation arrives: missing is degraded (strict consent defaults), not down.
        group.MapGet("/readyz", static (IHostApplicationLifetime lifetime, ShutdownDrain drain, GeolocationHealth geolocation) =>
        {
            var ready = lifetime.ApplicationStarted.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested && !drain.Draining;
            var body = (ready ? "ready" : "not ready") + "\ngeolocation: " + GeolocationText(geolocation.State) + "\n";
            return TypedResults.Text(body, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });

        group.MapGet("/metrics", static (PrometheusExporter exporter) =>
            TypedResults.Text(exporter.Render(), "text/plain; version=0.0.4; charset=utf-8"));

        return group;
    }

    private static string GeolocationText(GeolocationState state) => state switch
    {
        GeolocationState.Present => "present",
        GeolocationState.Missing => "missing",
        _ => "unknown",
    };
}
