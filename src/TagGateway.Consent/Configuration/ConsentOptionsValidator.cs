using Microsoft.Extensions.Options;

namespace TagGateway.Consent.Configuration;

/// <summary>Data-annotation rules, generated at compile time (no reflection).</summary>
[OptionsValidator]
internal sealed partial class ConsentOptionsValidator : IValidateOptions<ConsentOptions>;
