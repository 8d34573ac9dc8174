using Microsoft.Extensions.Options;

namespace TagGateway.Configuration;

/// <summary>Attribute rules (ranges, required values), generated at compile time.</summary>
[OptionsValidator]
internal sealed partial class GatewayOptionsAttributeValidator : IValidateOptions<GatewayOptions>;

/// <summary>
/// Cross-field and format rules. Every failure is collected, so an operator fixes a bad file in one pass
/// instead of one error per restart.
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (!MeasurementPath.TryValidate(options.MeasurementPath, out var pathError))
        {
            errors.Add($"Gateway:MeasurementPath '{options.MeasurementPath}' {pathError}");
        }

        if (options.TagIds.Count == 0)
        {
            errors.Add("Gateway:TagIds must list at least one Google tag ID (G-, GT-, GTM-, AW- or DC- form).");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.TagIds.Count; i++)
        {
            var id = options.TagIds[i];
            if (!TagId.IsValid(id))
            {
                errors.Add($"Gateway:TagIds:{i} '{id}' is not a Google tag ID (expected G-, GT-, GTM-, AW- or DC- followed by 4-16 letters or digits, upper case).");
            }
            else if (!seen.Add(id))
            {
                errors.Add($"Gateway:TagIds:{i} '{id}' is listed twice.");
            }
        }

        for (var i = 0; i < options.SiteHosts.Count; i++)
        {
            if (!SiteHostPolicy.IsHostName(options.SiteHosts[i]))
            {
                errors.Add($"Gateway:SiteHosts:{i} '{options.SiteHosts[i]}' must be a host name such as www.example.com or example.com (no scheme, port, path or wildcard).");
            }
        }

        ValidateUrl(errors, "Gateway:PublicUrl", options.PublicUrl, listener: true);
        ValidateUrl(errors, "Gateway:ManagementUrl", options.ManagementUrl, listener: true);
        if (string.Equals(options.PublicUrl, options.ManagementUrl, StringComparison.OrdinalIgnoreCase) && !options.PublicUrl.EndsWith(":0", StringComparison.Ordinal))
        {
            errors.Add("Gateway:ManagementUrl must differ from Gateway:PublicUrl: management endpoints are never served where the CDN reaches.");
        }

        var upstreams = options.Upstreams;
        ValidateUrl(errors, "Gateway:Upstreams:TagGatewayOrigin", upstreams.TagGatewayOrigin.Replace("{tagId}", "g-abcd", StringComparison.Ordinal), listener: false);
        if (upstreams.TagGatewayHost.Contains('/', StringComparison.Ordinal) || upstreams.TagGatewayHost.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"Gateway:Upstreams:TagGatewayHost '{upstreams.TagGatewayHost}' must be a host name such as '{{tagId}}.fps.goog'.");
        }

        ValidateUrl(errors, "Gateway:Upstreams:TagManager", upstreams.TagManager, listener: false);
        ValidateUrl(errors, "Gateway:Upstreams:Analytics", upstreams.Analytics, listener: false);
        ValidateUrl(errors, "Gateway:Upstreams:Ads", upstreams.Ads, listener: false);

        var identity = options.ClientIdentity;
        var trusted = identity.TrustedProxies ?? [];
        for (var i = 0; i < trusted.Count; i++)
        {
            if (!System.Net.IPNetwork.TryParse(trusted[i], out _))
            {
                errors.Add($"Gateway:ClientIdentity:TrustedProxies:{i} '{trusted[i]}' is not a CIDR range such as 10.0.0.0/8 or ::1/128.");
            }
        }

        if (identity.EdgeSecret is { Length: > 0 and < 16 })
        {
            errors.Add("Gateway:ClientIdentity:EdgeSecret must be at least 16 characters.");
        }

        if (identity.Edge == EdgeKind.CloudflareWorker && string.IsNullOrEmpty(identity.EdgeSecret))
        {
            errors.Add("Gateway:ClientIdentity:EdgeSecret is required when Edge is CloudflareWorker: a Worker proves itself with the shared secret.");
        }

        var scripts = options.Scripts;
        ValidateDuration(errors, "Gateway:Scripts:DefaultMaxAge", scripts.DefaultMaxAge, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        ValidateDuration(errors, "Gateway:Scripts:MaxMaxAge", scripts.MaxMaxAge, TimeSpan.FromSeconds(1), TimeSpan.FromDays(7));
        ValidateDuration(errors, "Gateway:Scripts:StaleWhileRevalidate", scripts.StaleWhileRevalidate, TimeSpan.Zero, TimeSpan.FromDays(1));
        ValidateDuration(errors, "Gateway:Scripts:StaleIfError", scripts.StaleIfError, TimeSpan.Zero, TimeSpan.FromDays(30));
        ValidateDuration(errors, "Gateway:Scripts:FetchTimeout", scripts.FetchTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        ValidateDuration(errors, "Gateway:Forwarding:ConnectTimeout", options.Forwarding.ConnectTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        ValidateDuration(errors, "Gateway:Forwarding:ResponseTimeout", options.Forwarding.ResponseTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        ValidateDuration(errors, "Gateway:Forwarding:ConnectionIdleTimeout", options.Forwarding.ConnectionIdleTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        ValidateDuration(errors, "Gateway:Forwarding:ConnectionLifetime", options.Forwarding.ConnectionLifetime, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        if (options.Forwarding.ConnectionIdleTimeout > options.Forwarding.ConnectionLifetime)
        {
            errors.Add("Gateway:Forwarding:ConnectionIdleTimeout must not exceed Gateway:Forwarding:ConnectionLifetime.");
        }

        if (scripts.DefaultMaxAge > scripts.MaxMaxAge)
        {
            errors.Add("Gateway:Scripts:DefaultMaxAge must not exceed Gateway:Scripts:MaxMaxAge.");
        }

        if (options.Demo.Enabled is true)
        {
            ValidateUrl(errors, "Gateway:Demo:UpstreamUrl", options.Demo.UpstreamUrl, listener: true);
        }

        LimitsOptionsValidation.Validate(options, errors);

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    // TimeSpan ranges are checked here: RangeAttribute(typeof(TimeSpan)) needs a type converter that trimming removes.
    private static void ValidateDuration(List<string> errors, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{key} '{value}' must be between {min} and {max}.");
        }
    }

    private static void ValidateUrl(List<string> errors, string key, string value, bool listener)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{key} '{value}' must be an absolute http:// or https:// URL.");
            return;
        }

        if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            errors.Add($"{key} '{value}' must be an origin (scheme, host and port) with no path or query.");
        }

        if (listener && uri.Scheme == Uri.UriSchemeHttps)
        {
            errors.Add($"{key} '{value}': TLS is terminated by the edge in front of the gateway; listen on http://.");
        }
    }
}
