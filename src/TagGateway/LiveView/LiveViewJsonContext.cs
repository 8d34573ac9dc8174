using System.Text.Json;
using System.Text.Json.Serialization;

namespace TagGateway.LiveView;

/// <summary>
/// The live view's JSON types (page, setup check, signal report), serialized by generated code (no reflection under
/// Native AOT). Its own context, beside the demo's, so neither folder depends on the other for serialization.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(LivePage))]
[JsonSerializable(typeof(SetupReport))]
[JsonSerializable(typeof(SignalReport))]
internal sealed partial class LiveViewJsonContext : JsonSerializerContext;
