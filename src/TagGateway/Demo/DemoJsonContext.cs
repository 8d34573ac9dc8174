using System.Text.Json;
using System.Text.Json.Serialization;

namespace TagGateway.Demo;

/// <summary>The demo page's JSON types, serialized by generated code (no reflection under Native AOT).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DemoHit))]
[JsonSerializable(typeof(DemoSetCookies))]
internal sealed partial class DemoJsonContext : JsonSerializerContext;
