// Contract stub of the TagGateway host, used only with TAGGATEWAY_STUB=1 while
// the real gateway is not available. It implements just what the edge tests
// rely on (see edge-config/README.md "Headers by edge"): configuration via
// Gateway__* environment variables, client identity per edge mode, the
// trusted-proxy and shared-secret rules, and a path-preserving proxy to
// Gateway__Upstreams__TagGatewayOrigin. CI always runs the real binary.
import http from "node:http";
import net from "node:net";
import crypto from "node:crypto";

const env = process.env;
const listen = (u) => new URL(u);
const publicUrl = listen(env.Gateway__PublicUrl || "http://127.0.0.1:8080");
const managementUrl = listen(env.Gateway__ManagementUrl || "http://127.0.0.1:9090");
const measurementPath = (env.Gateway__MeasurementPath || "/metrics").replace(/\/+$/, "");
const tagIds = Object.keys(env).filter((k) => /^Gateway__TagIds__\d+$/.test(k)).map((k) => env[k]);
const edge = env.Gateway__ClientIdentity__Edge || "Direct";
const secret = env.Gateway__ClientIdentity__EdgeSecret || "";
const upstreamOrigin = (env.Gateway__Upstreams__TagGatewayOrigin || "https://{tagId}.fps.goog").replace("{tagId}", (tagIds[0] || "").toLowerCase());

const trusted = new net.BlockList();
const trustedList = Object.keys(env).filter((k) => /^Gateway__ClientIdentity__TrustedProxies__\d+$/.test(k)).map((k) => env[k]);
for (const cidr of trustedList.length ? trustedList : ["127.0.0.1/32", "::1/128"]) {
  const [addr, bits] = cidr.split("/");
  const type = net.isIPv6(addr) ? "ipv6" : "ipv4";
  trusted.addSubnet(addr, Number(bits ?? (type === "ipv6" ? 128 : 32)), type);
}
const plain = (ip) => (ip || "").replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");
const isTrusted = (ip) => net.isIP(ip) !== 0 && trusted.check(ip, net.isIPv6(ip) ? "ipv6" : "ipv4");

const EDGE_HEADERS = [
  "x-taggateway-client-ip", "x-taggateway-country", "x-taggateway-region", "x-taggateway-proto", "x-taggateway-secret",
  "cf-connecting-ip", "cf-ipcountry", "cf-region-code", "x-gclb-country", "x-gclb-region",
  "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-countryregion", "x-forwarded-country", "x-forwarded-region",
];
const HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect"];

function secretMatches(value) {
  if (!secret) return true;
  if (typeof value !== "string") return false;
  const a = crypto.createHash("sha256").update(value).digest();
  const b = crypto.createHash("sha256").update(secret).digest();
  return crypto.timingSafeEqual(a, b);
}

function resolve(req) {
  const peer = plain(req.socket.remoteAddress);
  const h = req.headers;
  const direct = { ip: peer, country: "", region: "" };
  if (edge === "Direct" || !isTrusted(peer) || !secretMatches(h["x-taggateway-secret"])) return direct;
  const xff = (h["x-forwarded-for"] || "").split(",").map((s) => s.trim()).filter(Boolean);
  switch (edge) {
    case "CloudflareWorker":
      return { ip: h["x-taggateway-client-ip"] || peer, country: h["x-taggateway-country"] || "", region: h["x-taggateway-region"] || "" };
    case "Cloudflare":
      return { ip: h["cf-connecting-ip"] || peer, country: h["cf-ipcountry"] || "", region: h["cf-region-code"] || "" };
    case "GoogleLoadBalancer": {
      const country = (h["x-gclb-country"] || "").toUpperCase();
      let region = (h["x-gclb-region"] || "").toUpperCase();
      if (country && region.startsWith(country)) region = region.slice(country.length);
      return { ip: xff.length >= 2 ? xff[xff.length - 2] : peer, country, region };
    }
    case "ReverseProxy": {
      let ip = peer;
      for (let i = xff.length - 1; i >= 0; i--) {
        ip = xff[i];
        if (!isTrusted(ip)) break;
      }
      let country = "", region = "";
      const cr = h["x-forwarded-countryregion"];
      if (cr) [country, region = ""] = cr.split("-");
      else [country, region] = [h["x-forwarded-country"] || "", h["x-forwarded-region"] || ""];
      return { ip, country, region };
    }
    default:
      return direct;
  }
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, "http://stub");
  if (!(u.pathname === measurementPath || u.pathname.startsWith(measurementPath + "/"))) {
    res.writeHead(404).end();
    return;
  }
  const who = resolve(req);
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!EDGE_HEADERS.includes(k) && !HOP.includes(k)) headers[k] = v;
  }
  headers["x-forwarded-for"] = who.ip;
  if (/^[A-Z]{2}$/.test(who.country)) headers["x-forwarded-countryregion"] = who.region ? `${who.country}-${who.region}` : who.country;
  const target = new URL(u.pathname + u.search, upstreamOrigin);
  const up = http.request(target, { method: req.method, headers }, (ur) => {
    const out = { ...ur.headers };
    for (const k of ["connection", "keep-alive", "transfer-encoding"]) delete out[k];
    res.writeHead(ur.statusCode, out);
    ur.pipe(res);
  });
  up.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
server.listen(Number(publicUrl.port), publicUrl.hostname);

const mgmt = http.createServer((req, res) => {
  if (req.url === "/healthz" || req.url === "/readyz") res.writeHead(200).end("ok");
  else if (req.url === "/metrics") res.writeHead(200, { "content-type": "text/plain" }).end("# stub\n");
  else res.writeHead(404).end();
});
mgmt.listen(Number(managementUrl.port), managementUrl.hostname);

process.on("SIGTERM", () => {
  mgmt.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 20000).unref();
});
