using System.Reflection;
using System.Runtime.InteropServices;

namespace TagGateway.CommandLine;

/// <summary>The texts of <c>--help</c> and <c>--version</c>.</summary>
internal static class HelpText
{
    public const string Usage = """
        TagGateway: Google's tags and measurement hits served from the site's own domain.

        Usage:
          TagGateway [--Section:Key=value ...]        run the gateway (no tag ID configured: the built-in demo)
          TagGateway check-config [--Section:Key=value ...]
                                                     validate the configuration as start-up does, print it (secrets
                                                     masked) with where each value came from; exit 0 or 2
          TagGateway doctor <site-url> [--tag-id G-XXXX] [--send-test-hit] [--json] ...
                                                     check a live deployment from outside (TLS and HTTP/2, health,
                                                     loader, test hit, cookie domain, edge, geolocation, Safari);
                                                     one line per check with the fix; exit 0, 1 (a red check) or 2;
                                                     TagGateway doctor --help for its options
          TagGateway --help                          this text
          TagGateway --version                       version, commit, build date, runtime, optional features

        Configuration, lowest to highest: built-in defaults < appsettings.json beside the binary < environment
        (Gateway__TagIds__0=G-XXXX) < command line (--Gateway:TagIds:0=G-XXXX). Keys no option binds are refused.

        Most used keys:
          Gateway:TagIds:0                  the site's Google tag ID (G-, GT-, GTM-, AW-, DC-); none runs the demo
          Gateway:MeasurementPath           the first-party path the tag is served under (default /metrics)
          Gateway:PublicUrl                 public listener (default http://127.0.0.1:8080); there is no --port
          Gateway:ManagementUrl             health, readiness, metrics (default http://127.0.0.1:9090)
          Gateway:Mode                      TagGateway (Google tag gateway) or Direct
          Gateway:ClientIdentity:Edge       Direct, Cloudflare, CloudflareWorker, GoogleLoadBalancer, ReverseProxy
          Gateway:ClientIdentity:EdgeSecret secret the edge sends in X-TagGateway-Secret
          Gateway:DataPath                  where relative store paths resolve ($STATE_DIRECTORY under systemd,
                                            else the binary's folder)
          Consent:StrictDefaults:AdStorage  consent defaults (Denied, Granted) where no signal arrives
          Capi:Meta:AccessToken             conversion API destinations (Capi:Meta, Capi:TikTok, Capi:LinkedIn,
                                            Capi:GoogleAds)
          Logging:Console:FormatterName     simple (default on a terminal) or json (default otherwise)

        Exit codes: 0 stopped cleanly, 1 could not start (a port in use), 2 invalid configuration or command line.
        Documentation: README.md in the source repository (Configuration, Deployment), edge-config/ for each edge.
        """;

    public static string Version()
    {
        var assembly = typeof(HelpText).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? informational : informational[..plus];
        var commit = plus < 0 ? "unknown" : informational[(plus + 1)..];
        var built = assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(static a => a.Key == "BuildDate")?.Value ?? "unknown";

        // The same switch the Capi module's RedisStoreFeature reads (the publish trims the store out when it is false).
        var redis = !AppContext.TryGetSwitch("TagGateway.Capi.RedisStore.IsSupported", out var enabled) || enabled;
        return $"""
            TagGateway {version}
            commit:     {commit}
            built:      {built}
            runtime:    {RuntimeInformation.FrameworkDescription} {RuntimeInformation.RuntimeIdentifier}
            redis store: {(redis ? "compiled in (Capi:Store:Kind=Redis available)" : "not compiled in (publish with -p:TagGatewayRedis=true)")}
            """;
    }
}
