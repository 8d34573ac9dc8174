using TagGateway;

// TagGateway: Google's tags and measurement hits from the site's own domain.
// Configuration: embedded defaults < appsettings.json < environment (Gateway__*) < command line.
try
{
    var app = GatewayHost.Create(args);
    await app.RunAsync();
    return 0;
}
catch (GatewayConfigurationException ex)
{
    // A bad configuration never starts half a gateway: every error at once, and a non-zero exit.
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // The host has logged it already; the exit says it plainly instead of an unhandled-exception abort (134).
    await Console.Error.WriteLineAsync(ex.Message);
    return 1;
}
catch (Microsoft.Extensions.Options.OptionsValidationException ex)
{
    // Sections validated by the modules (Consent, Capi) at start-up.
    await Console.Error.WriteLineAsync("The configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, ex.Failures.Select(static f => " - " + f)));
    return 2;
}
