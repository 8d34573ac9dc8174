using System.Text.Json;
using System.Text.Json.Serialization;

namespace TagGateway.ClientIdentity;

/// <summary>The edge diagnostic's answer, written by the gateway and read by <c>doctor</c> with the same generated code.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(EdgeDiagnosticReport))]
internal sealed partial class EdgeDiagnosticJsonContext : JsonSerializerContext;
