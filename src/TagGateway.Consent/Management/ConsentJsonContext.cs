using System.Text.Json;
using System.Text.Json.Serialization;

namespace TagGateway.Consent.Management;

/// <summary>Every wire type of the consent endpoints; registered into the HTTP JSON options by AddTagGatewayConsent.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExplainRequest))]
[JsonSerializable(typeof(ExplainResponse))]
[JsonSerializable(typeof(ExplainError))]
internal sealed partial class ConsentJsonContext : JsonSerializerContext;
