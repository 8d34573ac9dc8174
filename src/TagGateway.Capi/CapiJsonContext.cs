using System.Text.Json;
using System.Text.Json.Serialization;
using TagGateway.Capi.Delivery.GoogleAds;
using TagGateway.Capi.Delivery.GoogleAnalytics;
using TagGateway.Capi.Delivery.LinkedIn;
using TagGateway.Capi.Delivery.Meta;
using TagGateway.Capi.Delivery.TikTok;
using TagGateway.Capi.Ingest;
using TagGateway.Capi.Management;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi;

/// <summary>camelCase wire types: the journal's event record, LinkedIn, Google's Data Manager API and the management JSON.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CapiEvent))]
[JsonSerializable(typeof(LinkedInBatch))]
[JsonSerializable(typeof(LinkedInBatchResponse))]
[JsonSerializable(typeof(LinkedInError))]
[JsonSerializable(typeof(IngestEventsRequest))]
[JsonSerializable(typeof(GoogleErrorResponse))]
[JsonSerializable(typeof(DeadLetterList))]
[JsonSerializable(typeof(ReplayResult))]
[JsonSerializable(typeof(StoreView))]
[JsonSerializable(typeof(MatchQualityReport))]
[JsonSerializable(typeof(MpValidationResponse))]
[JsonSerializable(typeof(MpValidationResult))]
internal sealed partial class CapiJsonContext : JsonSerializerContext;

/// <summary>Alias kept apart so camelCase platform types read as such at the call site.</summary>
internal static class CapiCamelJsonContext
{
    public static CapiJsonContext Default => CapiJsonContext.Default;
}

/// <summary>snake_case wire types: Meta, TikTok and the server-to-server ingest payload.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(MetaRequest))]
[JsonSerializable(typeof(MetaErrorResponse))]
[JsonSerializable(typeof(TikTokRequest))]
[JsonSerializable(typeof(TikTokResponse))]
[JsonSerializable(typeof(ServerEventBatch))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(OAuthTokenResponse))]
[JsonSerializable(typeof(OAuthErrorResponse))]
[JsonSerializable(typeof(MpRequest))]
internal sealed partial class CapiSnakeJsonContext : JsonSerializerContext;
