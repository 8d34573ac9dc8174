using System.Text.Json;
using System.Text.Json.Serialization;
using TagGateway.Demo;

namespace TagGateway.Management;

/// <summary>Every JSON wire type of the host, serialized by generated code (no reflection under Native AOT).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DemoHit))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
