namespace TagGateway;

/// <summary>The configuration cannot run; every problem found is listed, so one edit fixes them all.</summary>
public sealed class GatewayConfigurationException : Exception
{
    public GatewayConfigurationException()
    {
        Errors = [];
    }

    public GatewayConfigurationException(string message)
        : base(message)
    {
        Errors = [message];
    }

    public GatewayConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public GatewayConfigurationException(IReadOnlyList<string> errors)
        : base("The gateway configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(static e => " - " + e)))
    {
        Errors = errors;
    }

    public IReadOnlyList<string> Errors { get; }
}
