// TagGateway edge Worker (Cloudflare Workers, module syntax).
//
// Routes <site>/<measurement path>/* to the TagGateway origin and leaves every
// other path alone. A Worker subrequest hides the visitor from the origin
// (the origin sees a Cloudflare address), so the Worker hands the gateway what
// only the edge knows, in headers the gateway believes only when
// X-TagGateway-Secret matches its Gateway__ClientIdentity__EdgeSecret:
//
//   X-TagGateway-Client-IP  visitor IP        (CF-Connecting-IP)
//   X-TagGateway-Country    ISO country       (request.cf.country)
//   X-TagGateway-Region     ISO 3166-2 region (request.cf.regionCode)
//   X-TagGateway-Proto      original scheme   (http | https)
//   X-TagGateway-Host       the site's host   (cookies are scoped to its registrable domain)
//   X-TagGateway-Secret     shared secret     (Wrangler secret GATEWAY_SECRET)
//
// Bindings (wrangler.toml [vars] + `wrangler secret put GATEWAY_SECRET`):
//   GATEWAY_ORIGIN    https://gateway-origin.example.com (scheme + host[:port])
//   MEASUREMENT_PATH  /metrics (same value as the gateway's Gateway__MeasurementPath)
//   GATEWAY_SECRET    secret; never put it in wrangler.toml
//
// Bodies stream in both directions, every Set-Cookie header and every 3xx
// response pass through untouched: the Worker never reads a body, never
// follows a redirect and returns the gateway's Response object as it is.

const EDGE_HEADERS = [
  "x-taggateway-client-ip",
  "x-taggateway-country",
  "x-taggateway-region",
  "x-taggateway-proto",
  "x-taggateway-host",
  "x-taggateway-secret",
];

const COUNTRY = /^[A-Z]{2}$/;
// Cloudflare uses XX for "unknown" and T1 for Tor exit nodes: neither is a country.
const NOT_A_COUNTRY = new Set(["XX", "T1"]);
const REGION = /^[A-Z0-9]{1,3}$/;

/** "/metrics", "metrics", "/metrics/" -> "/metrics" */
export function normalizeMeasurementPath(value) {
  let path = String(value ?? "/metrics").trim();
  if (!path.startsWith("/")) path = "/" + path;
  while (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return path;
}

/** True for "/metrics" and "/metrics/..." but not "/metricsfoo" or "/". */
export function isMeasurementPath(pathname, measurementPath) {
  if (measurementPath === "/") return false;
  return pathname === measurementPath || pathname.startsWith(measurementPath + "/");
}

/** Builds the edge headers from what Cloudflare knows about the visitor. */
export function edgeHeaders(request, secret) {
  const url = new URL(request.url);
  const out = {};
  const ip = request.headers.get("cf-connecting-ip");
  if (ip) out["x-taggateway-client-ip"] = ip.trim();
  const cf = request.cf ?? {};
  const country = typeof cf.country === "string" ? cf.country.toUpperCase() : "";
  if (COUNTRY.test(country) && !NOT_A_COUNTRY.has(country)) {
    out["x-taggateway-country"] = country;
    const region = typeof cf.regionCode === "string" ? cf.regionCode.toUpperCase() : "";
    if (REGION.test(region)) out["x-taggateway-region"] = region;
  }
  out["x-taggateway-proto"] = url.protocol === "http:" ? "http" : "https";
  // The subrequest's Host is the gateway origin's; the site's host decides the cookies' Domain.
  out["x-taggateway-host"] = url.host;
  out["x-taggateway-secret"] = secret;
  return out;
}

function misconfigured(message) {
  console.error(`taggateway-edge: ${message}`);
  return new Response(`TagGateway edge Worker is misconfigured: ${message}\n`, {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const measurementPath = normalizeMeasurementPath(env.MEASUREMENT_PATH);

    // Not ours: hand the request to the site's own origin unchanged. With the
    // routes in wrangler.toml the Worker never even runs for these paths; this
    // is the safety net for a route pattern that is wider than intended.
    if (!isMeasurementPath(url.pathname, measurementPath)) return fetch(request);

    if (!env.GATEWAY_ORIGIN) return misconfigured("GATEWAY_ORIGIN is not set");
    // Fail closed: without the secret the gateway would believe nothing and
    // every hit would be attributed to a Cloudflare data centre.
    if (!env.GATEWAY_SECRET) return misconfigured("the GATEWAY_SECRET secret is not set (wrangler secret put GATEWAY_SECRET)");

    let origin;
    try {
      origin = new URL(env.GATEWAY_ORIGIN);
    } catch {
      return misconfigured("GATEWAY_ORIGIN is not a URL");
    }
    // Path prefix and query are kept: the gateway (and fps.goog behind it)
    // needs the measurement path.
    const target = new URL(url.pathname + url.search, origin.origin);

    const headers = new Headers(request.headers);
    // A visitor must not be able to pose as the edge.
    for (const name of EDGE_HEADERS) headers.delete(name);
    for (const [name, value] of Object.entries(edgeHeaders(request, env.GATEWAY_SECRET))) headers.set(name, value);

    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const init = {
      method: request.method,
      headers,
      body: hasBody ? request.body : null,
      redirect: "manual",
    };

    try {
      // Returned as is: status, every header (each Set-Cookie separately) and
      // the body stream.
      return await fetch(target.toString(), init);
    } catch (err) {
      console.error(`taggateway-edge: gateway origin unreachable: ${err}`);
      return new Response("Bad Gateway\n", {
        status: 502,
        headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      });
    }
  },
};
