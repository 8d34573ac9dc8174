namespace TagGateway.Configuration;

/// <summary>Rules of <see cref="LimitsOptions"/> and the shutdown delay that attributes cannot express (durations, one bound against another).</summary>
internal static class LimitsOptionsValidation
{
    public static void Validate(GatewayOptions options, List<string> errors)
    {
        var limits = options.Limits;
        if (limits.KeepAliveTimeout is { } keepAlive)
        {
            Between(errors, "Gateway:Limits:KeepAliveTimeout", keepAlive, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        }

        Between(errors, "Gateway:Limits:RequestHeadersTimeout", limits.RequestHeadersTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));

        // Kestrel checks rates once a second, and refuses a grace period that is not longer than that.
        Between(errors, "Gateway:Limits:MinRequestBodyGracePeriod", limits.MinRequestBodyGracePeriod, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5));
        if (limits.MaxUpgradedConnections > limits.MaxConnections)
        {
            errors.Add($"Gateway:Limits:MaxUpgradedConnections ({limits.MaxUpgradedConnections}) must not exceed Gateway:Limits:MaxConnections ({limits.MaxConnections}).");
        }

        Between(errors, "Gateway:ShutdownDelay", options.ShutdownDelay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
    }

    private static void Between(List<string> errors, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{key} '{value}' must be between {min} and {max}.");
        }
    }
}
