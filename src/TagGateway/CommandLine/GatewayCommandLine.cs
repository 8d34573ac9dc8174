namespace TagGateway.CommandLine;

internal enum GatewayCommand
{
    Run,
    Help,
    Version,
    CheckConfig,
    Doctor,
    Error,
}

/// <summary>What the command line asks for: a sub-command, and the configuration overrides handed to the host.</summary>
internal sealed record ParsedCommandLine(GatewayCommand Command, string[] HostArgs, string? Error = null);

/// <summary>
/// Reads the command line before the host does: the host's own provider takes any <c>--word</c> as a configuration key,
/// so <c>--port 8081</c> or a typo would be silently ignored. Here anything that is not a sub-command, a known option or
/// a <c>--Section:Key=value</c> override is an error with what to use instead.
/// </summary>
internal static class GatewayCommandLine
{
    private static readonly string[] Options = ["--help", "--version"];

    /// <summary>Host settings without a colon that the generic host reads from the command line.</summary>
    private static readonly string[] HostSwitches = ["environment", "contentRoot", "applicationName"];

    public static ParsedCommandLine Parse(string[] args)
    {
        var command = GatewayCommand.Run;
        var hostArgs = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (i == 0 && !arg.StartsWith('-'))
            {
                switch (arg)
                {
                    case "check-config":
                        command = GatewayCommand.CheckConfig;
                        continue;
                    case "doctor":
                        // The doctor reads its own options (a site URL, --tag-id …), none of them configuration.
                        return new(GatewayCommand.Doctor, args[1..]);
                    case "help":
                        return new(GatewayCommand.Help, []);
                    case "version":
                        return new(GatewayCommand.Version, []);
                    default:
                        break;
                }
            }

            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    return new(GatewayCommand.Help, []);
                case "--version":
                    return new(GatewayCommand.Version, []);
                default:
                    break;
            }

            if (arg.StartsWith('-') || arg.StartsWith('/'))
            {
                var name = arg.TrimStart('-', '/');
                var equals = name.IndexOf('=', StringComparison.Ordinal);
                var hasValue = equals >= 0;
                name = hasValue ? name[..equals] : name;
                if (name.Contains(':', StringComparison.Ordinal) || HostSwitches.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    hostArgs.Add(arg);
                    if (!hasValue && i + 1 < args.Length)
                    {
                        hostArgs.Add(args[++i]);
                    }

                    continue;
                }

                return new(GatewayCommand.Error, [], Unknown(arg, name));
            }

            if (arg.Contains('=', StringComparison.Ordinal) && arg.Contains(':', StringComparison.Ordinal))
            {
                hostArgs.Add(arg);
                continue;
            }

            return new(GatewayCommand.Error, [], $"Unexpected argument '{arg}'. Run TagGateway --help for the usage.");
        }

        return new(command, [.. hostArgs]);
    }

    private static string Unknown(string arg, string name)
    {
        if (name.Equals("port", StringComparison.OrdinalIgnoreCase) || name.Equals("p", StringComparison.OrdinalIgnoreCase)
            || name.Equals("urls", StringComparison.OrdinalIgnoreCase) || name.Equals("url", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel's own --urls is not used: the listeners come from Gateway:PublicUrl and Gateway:ManagementUrl.
            return $"Unknown option '{arg}': the public listener is set with --Gateway:PublicUrl=http://127.0.0.1:8081 "
                + "(environment: Gateway__PublicUrl), the management one with --Gateway:ManagementUrl.";
        }

        var option = "--" + name;
        var suggestion = Options.MinBy(o => Distance(o, option.ToLowerInvariant()));
        if (suggestion is not null && Distance(suggestion, option.ToLowerInvariant()) <= 3)
        {
            return $"Unknown option '{arg}'; did you mean `{suggestion}`? Run TagGateway --help for the usage.";
        }

        // A key given without its section (`--TagIds=…`): the nearest key under Gateway.
        if (KnownKeys.Suggest("Gateway:" + name) is { } key)
        {
            return $"Unknown option '{arg}'; did you mean `--{key}=…`? Configuration keys take their section (--Section:Key=value).";
        }

        return $"Unknown option '{arg}'. Run TagGateway --help for the usage; configuration keys are given as --Section:Key=value.";
    }

    private static int Distance(string a, string b) => KnownKeys.EditDistance(a, b);
}
