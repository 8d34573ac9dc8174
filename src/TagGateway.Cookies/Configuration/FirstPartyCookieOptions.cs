using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Policy;
using TagGateway.Cookies.Rules;

namespace TagGateway.Cookies.Configuration;

/// <summary>The <c>Cookies</c> configuration section.</summary>
public sealed class FirstPartyCookieOptions
{
    public const string SectionName = "Cookies";

    /// <summary>Off: no cookie is written, refreshed, restored or expired.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The cookie Domain; unset means the registrable domain of the site's host (from the Public Suffix List).</summary>
    public string? Domain { get; set; }

    /// <summary>A Public Suffix List file to use instead of the embedded copy (Debian: /usr/share/publicsuffix/public_suffix_list.dat).</summary>
    public string? PublicSuffixListPath { get; set; }

    /// <summary>A cookie the browser sent is re-issued at most this often; steady traffic carries no Set-Cookie in between.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The HttpOnly, Secure, server-managed identifier minted when absent; empty disables it.</summary>
    [StringLength(64)]
    public string ServerIdName { get; set; } = "FPID";

    /// <summary>Prefix of the HttpOnly copies kept of restorable cookies (<c>_ga</c> → <c>tg_ga</c>) and of the refresh marker.</summary>
    [Required]
    [StringLength(16)]
    public string ServerCopyPrefix { get; set; } = "tg";

    /// <summary>Per-cookie overrides and additions, keyed by cookie name (a name ending in '*' is a prefix).</summary>
    public Dictionary<string, IdentifierCookieOptions> Identifiers { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One identifier cookie's settings; unset fields keep the default rule's.</summary>
public sealed class IdentifierCookieOptions
{
    public bool? Enabled { get; set; }

    public ConsentDestination? Destination { get; set; }

    public CookieFormat? Format { get; set; }

    public TimeSpan? MaxAge { get; set; }

    public bool? KeepServerCopy { get; set; }
}

[OptionsValidator]
internal sealed partial class FirstPartyCookieOptionsValidator : IValidateOptions<FirstPartyCookieOptions>;

/// <summary>Cross-field rules; every error is reported at once.</summary>
internal sealed class FirstPartyCookieOptionsCrossFieldValidator : IValidateOptions<FirstPartyCookieOptions>
{
    public ValidateOptionsResult Validate(string? name, FirstPartyCookieOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.RefreshInterval < TimeSpan.Zero || options.RefreshInterval > TimeSpan.FromDays(30))
        {
            errors.Add($"Cookies:RefreshInterval '{options.RefreshInterval}' must be between 0 and 30 days.");
        }

        if (options.ServerIdName.Length > 0 && !CookieFormats.IsToken(options.ServerIdName))
        {
            errors.Add($"Cookies:ServerIdName '{options.ServerIdName}' must be letters, digits, '-', '_' or '.'.");
        }

        if (!CookieFormats.IsToken(options.ServerCopyPrefix))
        {
            errors.Add($"Cookies:ServerCopyPrefix '{options.ServerCopyPrefix}' must be letters, digits, '-', '_' or '.'.");
        }

        if (options.Domain is { } domain && (domain.Length == 0 || domain.StartsWith('.') || !CookieFormats.IsToken(domain) || !domain.Contains('.', StringComparison.Ordinal)))
        {
            errors.Add($"Cookies:Domain '{domain}' must be a host name such as example.com.");
        }

        if (options.PublicSuffixListPath is { } path && !File.Exists(path))
        {
            errors.Add($"Cookies:PublicSuffixListPath '{path}' does not exist.");
        }

        foreach (var (cookie, rule) in options.Identifiers)
        {
            var bare = cookie.TrimEnd('*');
            if (!CookieFormats.IsToken(bare))
            {
                errors.Add($"Cookies:Identifiers:{cookie} is not a cookie name.");
            }

            if (rule.MaxAge is { } maxAge && (maxAge <= TimeSpan.Zero || maxAge > IdentifierCookieRule.MaxLifetime))
            {
                errors.Add($"Cookies:Identifiers:{cookie}:MaxAge '{maxAge}' must be positive and at most 400 days (browsers cap cookies there).");
            }

            if (rule.Destination is null && !IdentifierCookieRule.Defaults.Any(d => d.Name == bare))
            {
                errors.Add($"Cookies:Identifiers:{cookie}:Destination is required for a cookie the gateway does not know.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
