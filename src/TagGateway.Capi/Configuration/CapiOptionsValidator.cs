using Microsoft.Extensions.Options;

namespace TagGateway.Capi.Configuration;

/// <summary>Data-annotation rules, generated at compile time (no reflection).</summary>
[OptionsValidator]
internal sealed partial class CapiOptionsValidator : IValidateOptions<CapiOptions>;
