using TagGateway;
using TagGateway.CommandLine;

// TagGateway: Google's tags and measurement hits from the site's own domain.
// Configuration: embedded defaults < appsettings.json < environment (Gateway__*) < command line.
var command = GatewayCommandLine.Parse(args);
switch (command.Command)
{
    case GatewayCommand.Help:
        Console.Out.Write(HelpText.Usage + Environment.NewLine);
        return 0;
    case GatewayCommand.Version:
        Console.Out.Write(HelpText.Version() + Environment.NewLine);
        return 0;
    case GatewayCommand.Doctor:
        return await TagGateway.CommandLine.Doctor.DoctorCommand.RunAsync(command.HostArgs, Console.Out, Console.Error);
    case GatewayCommand.Error:
        await Console.Error.WriteLineAsync(command.Error);
        return 2;
    default:
        break;
}

TagGateway.Configuration.GatewayOptions? options = null;
try
{
    if (command.Command == GatewayCommand.CheckConfig)
    {
        Console.Out.Write(CheckConfig.Run(command.HostArgs) + Environment.NewLine);
        return 0;
    }

    TagGateway.Hosting.OutOfMemoryExit.Install();
    var app = GatewayHost.Create(command.HostArgs);
    options = app.Services.GetRequiredService<TagGateway.Configuration.GatewayOptions>();
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
    // The exit says it plainly, with the key to change, instead of an unhandled-exception abort (134).
    await Console.Error.WriteLineAsync(StartupErrors.AddressInUse(ex, options));
    return 1;
}
catch (Microsoft.Extensions.Options.OptionsValidationException ex)
{
    // Sections validated by the modules (Consent, Capi) at start-up.
    await Console.Error.WriteLineAsync("The configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, ex.Failures.Select(static f => " - " + f)));
    return 2;
}
