using Microsoft.Extensions.Options;
using TagGateway.Consent.Policy;

namespace TagGateway.Consent.Configuration;

/// <summary>Rules spanning several fields. Reports every problem at once so a bad configuration is fixed in one pass.</summary>
internal sealed class ConsentOptionsCrossFieldValidator : IValidateOptions<ConsentOptions>
{
    internal const int MinSaltLength = 16;

    public ValidateOptionsResult Validate(string? name, ConsentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        ValidateRegions(options, errors);
        ValidateDestinations(options, errors);
        ValidateLog(options.Log, errors);

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateRegions(ConsentOptions options, List<string> errors)
    {
        if (options.StrictDefaults is null || options.OtherDefaults is null)
        {
            errors.Add("Consent:StrictDefaults and Consent:OtherDefaults must not be null.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach ((var key, var value) in options.RegionDefaults ?? [])
        {
            if (!RegionTable.TryGetCountry(key, out _))
            {
                errors.Add($"Consent:RegionDefaults:{key}: the key must be an ISO country code such as \"DE\", optionally with a subdivision such as \"US-CA\".");
            }
            else if (!seen.Add(key))
            {
                errors.Add($"Consent:RegionDefaults:{key}: the region is configured twice (keys are case-insensitive).");
            }

            if (value is null)
            {
                errors.Add($"Consent:RegionDefaults:{key}: the entry is empty.");
            }
        }
    }

    private static void ValidateDestinations(ConsentOptions options, List<string> errors)
    {
        var builtIn = new HashSet<string>(ConsentMatrix.BuiltIn.Select(r => r.Name), StringComparer.OrdinalIgnoreCase);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var added = 0;
        foreach ((var key, var value) in options.Destinations ?? [])
        {
            var path = $"Consent:Destinations:{key}";
            if (!IsValidName(key))
            {
                errors.Add($"{path}: a destination name is 1-64 letters, digits, '_', '-' or '.', starting with a letter.");
            }

            if (!seen.Add(key))
            {
                errors.Add($"{path}: the destination is configured twice (names are case-insensitive).");
            }

            if (!builtIn.Contains(key))
            {
                added++;
            }

            if (value is null)
            {
                errors.Add($"{path}: the entry is empty.");
                continue;
            }

            var inherited = ConsentMatrix.BuiltIn.FirstOrDefault(r => string.Equals(r.Name, key, StringComparison.OrdinalIgnoreCase))
                ?? ConsentMatrix.DefaultForConfigured(key);
            var action = value.WhenPersonalizationDenied ?? inherited.WhenPersonalizationDenied;
            var form = value.RestrictedForm ?? inherited.RestrictedForm;
            if (action == PersonalizationDeniedAction.Restrict && form == RestrictedForm.None)
            {
                errors.Add($"{path}: WhenPersonalizationDenied is Restrict but no RestrictedForm is set; use Block if the destination has no restricted form.");
            }
        }

        if (ConsentMatrix.BuiltIn.Length + added > ConsentMatrix.MaxDestinations)
        {
            errors.Add($"Consent:Destinations: at most {ConsentMatrix.MaxDestinations - ConsentMatrix.BuiltIn.Length} destinations can be added.");
        }
    }

    private static void ValidateLog(ConsentLogOptions? log, List<string> errors)
    {
        if (log is null)
        {
            errors.Add("Consent:Log must not be null.");
            return;
        }

        if (log.Mode == ConsentLogMode.File && string.IsNullOrWhiteSpace(log.Path))
        {
            errors.Add("Consent:Log:Path is required when Consent:Log:Mode is File.");
        }

        if (log.Mode != ConsentLogMode.None && (log.ClientIdSalt is null || log.ClientIdSalt.Length < MinSaltLength))
        {
            errors.Add($"Consent:Log:ClientIdSalt is required when the consent log is on, at least {MinSaltLength} characters, so client ids are never logged in a reversible form.");
        }
    }

    internal static bool IsValidName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
