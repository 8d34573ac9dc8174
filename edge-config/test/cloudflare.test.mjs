// edge-config/cloudflare: the Worker under Cloudflare's runtime (workerd via
// miniflare), routed by the shipped wrangler.toml, in front of the gateway on
// loopback. Nothing here leaves 127.0.0.1: an "egress" worker stands in for
// the internet and refuses every host but loopback and the test site.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { parse as parseToml } from "smol-toml";
import { Miniflare } from "miniflare";
import { EDGE_DIR, request } from "./lib/util.mjs";
import { startFakeUpstream, FAKE_COOKIES } from "./lib/fake-upstream.mjs";
import { startGateway } from "./lib/gateway.mjs";
import { startTap } from "./lib/tap.mjs";

const CF_DIR = path.join(EDGE_DIR, "cloudflare");
const WORKER = path.join(CF_DIR, "src", "worker.js");
const wrangler = parseToml(fs.readFileSync(path.join(CF_DIR, "wrangler.toml"), "utf8"));
const SITE = "https://www.example.com"; // the host in wrangler.toml's routes
const SECRET = crypto.randomBytes(24).toString("hex");
const VISITOR = { ip: "203.0.113.7", cf: { country: "NL", regionCode: "NH", city: "Amsterdam" } };

const SITE_ORIGIN_WORKER = `
export default {
  async fetch(request, env) {
    // Stands in for the zone's origin server: everything the Worker routes leave alone.
    const u = new URL(request.url);
    return fetch(new Request(env.SITE_ORIGIN + u.pathname + u.search, request));
  },
};`;

const EGRESS_WORKER = `
export default {
  async fetch(request, env) {
    // The "internet" as seen from the Worker under test.
    const u = new URL(request.url);
    if (u.hostname === "127.0.0.1") return fetch(request);
    if (u.hostname === "www.example.com") return fetch(new Request(env.SITE_ORIGIN + u.pathname + u.search, request));
    return new Response("egress refused by the test harness: " + u.href, { status: 599 });
  },
};`;

const routePatterns = (wrangler.routes || []).map((r) => (typeof r === "string" ? r : r.pattern));

let upstream, site, gateway, tap, mf;

function tagWorker(name, bindings) {
  return {
    name,
    modules: true,
    scriptPath: WORKER,
    modulesRoot: CF_DIR,
    compatibilityDate: wrangler.compatibility_date,
    compatibilityFlags: wrangler.compatibility_flags || [],
    bindings,
    outboundService: "egress",
  };
}

/** A visitor's request to the site, as Cloudflare's edge hands it to the Worker. */
function visit(pathAndQuery, { method = "GET", headers = {}, body, cf = VISITOR.cf, ip = VISITOR.ip } = {}) {
  return mf.dispatchFetch(SITE + pathAndQuery, {
    method,
    headers: { "CF-Connecting-IP": ip, "User-Agent": "edge-config-test", ...headers },
    body,
    cf,
    redirect: "manual",
  });
}

before(async () => {
  upstream = await startFakeUpstream();
  site = await startFakeUpstream({ role: "site" });
  gateway = await startGateway({
    name: "cloudflare",
    upstream: upstream.origin,
    env: {
      Gateway__ClientIdentity__Edge: "CloudflareWorker",
      Gateway__ClientIdentity__EdgeSecret: SECRET,
      Gateway__ClientIdentity__TrustedProxies__0: "127.0.0.1/32",
    },
  });
  tap = await startTap(gateway.url);
  const vars = wrangler.vars || {};
  mf = new Miniflare({
    // No request.cf download from Cloudflare: each test passes its own cf object.
    cf: false,
    workers: [
      // First worker = where requests go when no route matches: the site origin.
      { name: "site-origin", modules: true, script: SITE_ORIGIN_WORKER, compatibilityDate: wrangler.compatibility_date, bindings: { SITE_ORIGIN: site.origin } },
      { ...tagWorker(wrangler.name, { ...vars, GATEWAY_ORIGIN: tap.origin, GATEWAY_SECRET: SECRET }), routes: routePatterns },
      tagWorker("direct-to-fake-upstream", { ...vars, GATEWAY_ORIGIN: upstream.origin, GATEWAY_SECRET: SECRET }),
      tagWorker("wrong-secret", { ...vars, GATEWAY_ORIGIN: tap.origin, GATEWAY_SECRET: "not-the-gateway-secret" }),
      tagWorker("no-secret", { ...vars, GATEWAY_ORIGIN: tap.origin }),
      { name: "egress", modules: true, script: EGRESS_WORKER, compatibilityDate: wrangler.compatibility_date, bindings: { SITE_ORIGIN: site.origin } },
    ],
  });
  await mf.ready;
});

after(async () => {
  // Our own processes first, so a runtime that is slow to dispose cannot strand them.
  await gateway?.stop();
  await tap?.close();
  await upstream?.close();
  await site?.close();
  let timer;
  await Promise.race([mf?.dispose(), new Promise((resolve) => (timer = setTimeout(resolve, 10000)))]);
  clearTimeout(timer);
});

describe("wrangler.toml", () => {
  it("is a module Worker whose entry point exists", () => {
    assert.equal(wrangler.main, "src/worker.js");
    assert.ok(fs.existsSync(path.join(CF_DIR, wrangler.main)));
    assert.match(wrangler.compatibility_date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(wrangler.workers_dev, false, "no public *.workers.dev URL");
  });

  it("routes only the measurement path of the site", () => {
    const mp = wrangler.vars.MEASUREMENT_PATH;
    assert.equal(mp, "/metrics");
    assert.ok(routePatterns.length > 0);
    for (const r of wrangler.routes) {
      const pattern = typeof r === "string" ? r : r.pattern;
      assert.ok(!pattern.startsWith("*"), `no hostname wildcard: ${pattern}`);
      const p = pattern.slice(pattern.indexOf("/"));
      assert.ok(p === `${mp}*` || p === mp || p === `${mp}/*`, `route ${pattern} covers only ${mp}`);
      if (typeof r !== "string") assert.ok(r.zone_name && pattern.split("/")[0].endsWith(r.zone_name));
    }
  });

  it("holds no secret: the shared secret is a Wrangler secret binding", () => {
    for (const key of Object.keys(wrangler.vars || {})) assert.doesNotMatch(key, /secret|token|key/i);
    assert.ok(!("GATEWAY_SECRET" in (wrangler.vars || {})));
    assert.match(fs.readFileSync(WORKER, "utf8"), /env\.GATEWAY_SECRET/);
  });
});

describe("Worker in front of the gateway", () => {
  it("serves gtag.js through the gateway; the gateway sees the visitor IP and CC-RR geo", async () => {
    const m = upstream.mark();
    const t = tap.mark();
    const res = await visit("/metrics/gtag/js?id=G-ABC123&l=dataLayerCf1");
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.match(res.headers.get("content-type"), /javascript/);
    assert.match(body, /fake google tag G-ABC123/);
    const [up] = upstream.since(m, "/metrics/gtag/js");
    assert.ok(up, "the script request reached the fake upstream");
    assert.equal(up.url, "/metrics/gtag/js?id=G-ABC123&l=dataLayerCf1", "path prefix and query kept");
    // Scripts are cached per region, so the gateway sends the geo; the visitor IP
    // goes with hits (below). Whatever IP it sends must be the visitor's.
    assert.equal(up.headers["x-forwarded-countryregion"], "NL-NH");
    assert.ok([undefined, VISITOR.ip].includes(up.headers["x-forwarded-for"]), `script fetch X-Forwarded-For: ${up.headers["x-forwarded-for"]}`);
    for (const h of Object.keys(up.headers)) assert.doesNotMatch(h, /^x-taggateway-/, `edge header ${h} must not reach Google`);
    // What the Worker told the gateway.
    const [sent] = tap.since(t);
    assert.equal(sent.headers["x-taggateway-client-ip"], VISITOR.ip);
    assert.equal(sent.headers["x-taggateway-country"], "NL");
    assert.equal(sent.headers["x-taggateway-region"], "NH");
    assert.equal(sent.headers["x-taggateway-proto"], "https");
    assert.equal(sent.headers["x-taggateway-host"], new URL(SITE).host, "the site's host, for the cookies' Domain");
    assert.equal(sent.headers["x-taggateway-secret"], SECRET);
  });

  it("serves gtm.js through the gateway", async () => {
    const res = await visit("/metrics/gtm.js?id=GTM-XYZ789&l=dataLayerCf2");
    assert.equal(res.status, 200);
    assert.match(await res.text(), /fake google tag GTM-XYZ789/);
  });

  it("forwards a GA4 hit with its body; both Set-Cookie headers reach the browser", async () => {
    const m = upstream.mark();
    const payload = "en=page_view&dl=https%3A%2F%2Fwww.example.com%2F\nen=scroll&epn.percent_scrolled=90";
    const res = await visit("/metrics/g/collect?v=2&tid=G-ABC123&cid=111.222&en=page_view", {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8", cookie: "_ga=GA1.1.111.222; FPID=old" },
      body: payload,
    });
    assert.equal(res.status, 204);
    assert.deepEqual(res.headers.getSetCookie(), FAKE_COOKIES);
    const [up] = upstream.since(m, "/metrics/g/collect");
    assert.ok(up, "the hit reached the fake upstream");
    assert.equal(up.method, "POST");
    assert.equal(up.bodyLength, Buffer.byteLength(payload));
    assert.equal(up.bodySha256, crypto.createHash("sha256").update(payload).digest("hex"));
    assert.equal(up.headers["x-forwarded-for"], VISITOR.ip);
    assert.equal(up.headers["x-forwarded-countryregion"], "NL-NH");
    assert.match(up.headers.cookie || "", /_ga=GA1\.1\.111\.222/);
  });

  it("sends the country alone when Cloudflare knows no region", async () => {
    const m = upstream.mark();
    const res = await visit("/metrics/g/collect?v=2&tid=G-ABC123&en=page_view", { cf: { country: "DE", regionCode: "" }, ip: "198.51.100.44" });
    assert.equal(res.status, 204);
    const [up] = upstream.since(m, "/metrics/g/collect");
    assert.equal(up.headers["x-forwarded-for"], "198.51.100.44");
    assert.equal(up.headers["x-forwarded-countryregion"], "DE");
  });

  it("passes an IPv6 visitor through", async () => {
    const m = upstream.mark();
    const res = await visit("/metrics/g/collect?v=2&tid=G-ABC123&en=page_view", { ip: "2001:db8::7", cf: { country: "US", regionCode: "CA" } });
    assert.equal(res.status, 204);
    const [up] = upstream.since(m, "/metrics/g/collect");
    assert.equal(up.headers["x-forwarded-for"], "2001:db8::7");
    assert.equal(up.headers["x-forwarded-countryregion"], "US-CA");
  });

  it("overwrites edge headers a visitor tries to send", async () => {
    const m = upstream.mark();
    const t = tap.mark();
    const res = await visit("/metrics/g/collect?v=2&tid=G-ABC123&en=spoof", {
      headers: {
        "X-TagGateway-Client-IP": "6.6.6.6",
        "X-TagGateway-Country": "US",
        "X-TagGateway-Region": "TX",
        "X-TagGateway-Secret": "guess",
      },
    });
    assert.equal(res.status, 204);
    const [sent] = tap.since(t);
    assert.equal(sent.headers["x-taggateway-client-ip"], VISITOR.ip);
    assert.equal(sent.headers["x-taggateway-secret"], SECRET);
    const [up] = upstream.since(m, "/metrics/g/collect");
    assert.equal(up.headers["x-forwarded-for"], VISITOR.ip);
    assert.equal(up.headers["x-forwarded-countryregion"], "NL-NH");
  });

  it("a Worker with the wrong secret gets no trust: the gateway falls back to the socket address", async () => {
    const m = upstream.mark();
    const worker = await mf.getWorker("wrong-secret");
    const res = await worker.fetch(`${SITE}/metrics/g/collect?v=2&tid=G-ABC123&en=wrong_secret`, {
      headers: { "CF-Connecting-IP": VISITOR.ip },
      cf: VISITOR.cf,
      redirect: "manual",
    });
    assert.equal(res.status, 204);
    await res.arrayBuffer();
    const [up] = upstream.since(m, "/metrics/g/collect");
    assert.ok(up);
    assert.notEqual(up.headers["x-forwarded-for"], VISITOR.ip);
    assert.equal(up.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(up.headers["x-forwarded-countryregion"], undefined);
  });

  it("a request straight to the gateway without the secret gets no trust", async () => {
    const m = upstream.mark();
    const res = await request(`${gateway.url}/metrics/g/collect?v=2&tid=G-ABC123&en=no_secret`, {
      headers: { "X-TagGateway-Client-IP": "6.6.6.6", "X-TagGateway-Country": "US", "X-TagGateway-Region": "TX", "X-TagGateway-Proto": "https" },
    });
    assert.equal(res.status, 204);
    const [up] = upstream.since(m, "/metrics/g/collect");
    assert.equal(up.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(up.headers["x-forwarded-countryregion"], undefined);
    for (const h of Object.keys(up.headers)) assert.doesNotMatch(h, /^x-taggateway-/);
  });

  it("a request straight to the gateway with a secret of the right length but wrong value gets no trust", async () => {
    const m = upstream.mark();
    const wrong = SECRET.slice(0, -1) + (SECRET.endsWith("0") ? "1" : "0");
    const res = await request(`${gateway.url}/metrics/g/collect?v=2&tid=G-ABC123&en=near_secret`, {
      headers: { "X-TagGateway-Client-IP": "6.6.6.6", "X-TagGateway-Country": "US", "X-TagGateway-Secret": wrong },
    });
    assert.equal(res.status, 204);
    const [up] = upstream.since(m, "/metrics/g/collect");
    assert.equal(up.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(up.headers["x-forwarded-countryregion"], undefined);
  });

  it("other paths never reach the gateway", async () => {
    const t = tap.mark();
    const s = site.mark();
    for (const p of ["/", "/shop/cart?x=1", "/metricsfoo", "/metric", "/assets/metrics/app.js", "/METRICS/gtag/js?id=G-ABC123"]) {
      const res = await visit(p);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get("x-served-by"), "site-origin", p);
      await res.arrayBuffer();
    }
    assert.equal(tap.since(t).length, 0, `gateway got: ${tap.since(t).map((r) => r.url).join(", ")}`);
    assert.equal(site.since(s).length, 6);
  });

  it("the bare measurement path goes to the gateway too", async () => {
    const t = tap.mark();
    const res = await visit("/metrics?validate_geo=healthy");
    await res.arrayBuffer();
    assert.equal(tap.since(t).length, 1);
    assert.equal(tap.since(t)[0].url, "/metrics?validate_geo=healthy");
  });

  it("relays a redirect from upstream without following it", async () => {
    const res = await visit("/metrics/redirect-test");
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://www.example.com/metrics/landing?from=redirect");
    assert.deepEqual(res.headers.getSetCookie(), ["FPGCLAW=redirect-cookie; Path=/; Secure"]);
  });

  it("streams a response body through the gateway", async () => {
    // identity: otherwise the runtime gzips text/plain for the client (as
    // Cloudflare's edge does), and the compressor, not the Worker, holds the chunk.
    await assertStreams((p) => visit(p, { headers: { "accept-encoding": "identity" } }), "via-gateway");
  });
});

describe("Worker alone (origin = recording upstream)", () => {
  let direct;
  before(async () => {
    direct = await mf.getWorker("direct-to-fake-upstream");
  });
  const send = (p, init = {}) =>
    direct.fetch(SITE + p, { redirect: "manual", cf: VISITOR.cf, ...init, headers: { "CF-Connecting-IP": VISITOR.ip, ...(init.headers || {}) } });

  it("keeps the path prefix and query, adds the edge headers", async () => {
    const m = upstream.mark();
    const res = await send("/metrics/gtag/js?id=G-ABC123&l=direct1");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "public, max-age=300");
    await res.text();
    const [up] = upstream.since(m);
    assert.equal(up.url, "/metrics/gtag/js?id=G-ABC123&l=direct1");
    assert.equal(up.headers["x-taggateway-client-ip"], VISITOR.ip);
    assert.equal(up.headers["x-taggateway-country"], "NL");
    assert.equal(up.headers["x-taggateway-region"], "NH");
    assert.equal(up.headers["x-taggateway-proto"], "https");
    assert.equal(up.headers["x-taggateway-secret"], SECRET);
    assert.equal(up.headers.host, `127.0.0.1:${upstream.port}`, "Host is the gateway origin's");
  });

  it("reports the original scheme", async () => {
    const m = upstream.mark();
    const res = await direct.fetch("http://www.example.com/metrics/healthy", { cf: VISITOR.cf, headers: { "CF-Connecting-IP": VISITOR.ip } });
    assert.equal(await res.text(), "ok");
    assert.equal(upstream.since(m)[0].headers["x-taggateway-proto"], "http");
  });

  it("passes several Set-Cookie headers untouched", async () => {
    const res = await send("/metrics/g/collect?v=2&tid=G-ABC123");
    assert.equal(res.status, 204);
    assert.deepEqual(res.headers.getSetCookie(), FAKE_COOKIES);
  });

  it("passes a redirect untouched", async () => {
    const res = await send("/metrics/redirect-test");
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://www.example.com/metrics/landing?from=redirect");
  });

  it("streams the response body", async () => {
    await assertStreams((p) => send(p), "direct");
  });

  it("passes a large binary POST body unchanged", async () => {
    const body = crypto.randomBytes(200 * 1024);
    const res = await send("/metrics/echo-body", { method: "POST", body, headers: { "content-type": "application/octet-stream" } });
    assert.equal(res.status, 200);
    const echo = await res.json();
    assert.equal(echo.length, body.length);
    assert.equal(echo.sha256, crypto.createHash("sha256").update(body).digest("hex"));
  });

  it("drops Cloudflare's placeholder countries (XX unknown, T1 Tor)", async () => {
    for (const country of ["XX", "T1"]) {
      const m = upstream.mark();
      const res = await send("/metrics/g/collect?v=2", { cf: { country, regionCode: "ZZ" } });
      assert.equal(res.status, 204);
      const [up] = upstream.since(m);
      assert.equal(up.headers["x-taggateway-country"], undefined, country);
      assert.equal(up.headers["x-taggateway-region"], undefined, country);
    }
  });

  it("passes other paths to the site origin when a route is wider than the measurement path", async () => {
    const m = upstream.mark();
    const s = site.mark();
    const res = await send("/metricsfoo/page");
    assert.equal(res.headers.get("x-served-by"), "site-origin");
    await res.text();
    assert.equal(upstream.since(m).length, 0);
    assert.equal(site.since(s).length, 1);
    assert.equal(site.since(s)[0].headers["x-taggateway-secret"], undefined, "the secret never goes to the site origin");
  });

  it("fails closed without the secret binding", async () => {
    const t = tap.mark();
    const worker = await mf.getWorker("no-secret");
    const res = await worker.fetch(`${SITE}/metrics/g/collect?v=2`, { headers: { "CF-Connecting-IP": VISITOR.ip } });
    assert.equal(res.status, 500);
    assert.match(await res.text(), /GATEWAY_SECRET/);
    assert.equal(tap.since(t).length, 0);
  });
});

/** The first chunk must arrive while the upstream is still holding the rest back. */
async function assertStreams(fetcher, id) {
  const res = await fetcher(`/metrics/stream-test?id=${id}`);
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const started = Date.now();
  while (!text.includes("first-chunk")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  assert.match(text, /first-chunk/);
  assert.ok(Date.now() - started < 4500, "first chunk arrived before the upstream finished");
  const rel = await request(`${upstream.origin}/__release?id=${id}`);
  assert.equal(rel.status, 200, "upstream was still streaming when the first chunk arrived");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  assert.equal(text, "first-chunk\nsecond-chunk\n");
}
