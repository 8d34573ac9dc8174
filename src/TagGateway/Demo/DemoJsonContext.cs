using System.Text.Json;
using System.Text.Json.Serialization;
using TagGateway.Demo;
using TagGateway.LiveView;

namespace TagGateway.Demo;

/// <summary>Every JSON wire type of the host, serialized by generated code (no reflection under Native AOT).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DemoHit))]
[JsonSerializable(typeof(DemoSetCookies))]
[JsonSerializable(typeof(LivePage))]
[JsonSerializable(typeof(SetupReport))]
[JsonSerializable(typeof(SignalReport))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
