// The lab's one HTTP server on loopback, behind nginx (which terminates TLS for every lab host): the shop's pages,
// the stand-in tag and pixel, and fakes of Google's and Meta's endpoints that record what arrives. The gateway's
// upstreams (scripts, hits, conversion APIs) point here too, over plain HTTP.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { renderPage } from "./shop.mjs";

const here = new URL(".", import.meta.url);
const GTAG = readFileSync(new URL("stand-in/gtag.js", here));
const FBEVENTS = readFileSync(new URL("stand-in/fbevents.js", here));
export const SHOP_HOST = "www.lab-shop.test";

/** "v0007.2" from a lab page URL (?lab=v0007.2), else from an order id (T-v0007-2). */
export function attribute(url, txn) {
  try {
    const lab = url ? new URL(url).searchParams.get("lab") : null;
    if (lab && /^v\d+\.\d+$/.test(lab)) {
      const [visitor, visit] = lab.split(".");
      return { visitor, visit: Number(visit) };
    }
  } catch {
    // not a URL: fall through to the order id
  }
  const m = /^T-(v\d+)-(\d+)$/.exec(txn ?? "");
  return m ? { visitor: m[1], visit: Number(m[2]) } : { visitor: null, visit: null };
}

const cookieNames = (header) => (header ?? "").split(";").map((p) => p.split("=")[0].trim()).filter(Boolean);
const GOOGLE_ID_COOKIE = /^(_ga.*|_gid|_gcl_.*|FP[A-Z].*)$/;
const EVENT = { PageView: "page_view", Purchase: "purchase", page_view: "page_view", purchase: "purchase" };
const pick = (o, ...keys) => keys.map((k) => o?.[k]).find((v) => v !== undefined && v !== null);

/** What Google's Measurement Protocol reference requires of a /mp/collect request that the gateway could get wrong. */
export function mpProblems(query, json) {
  const out = [];
  if (!/^G-[A-Z0-9]+$/.test(query.get("measurement_id") ?? "")) out.push("measurement_id missing");
  if (!query.get("api_secret")) out.push("api_secret missing");
  if (typeof json?.client_id !== "string" || json.client_id === "") out.push("client_id missing");
  const events = Array.isArray(json?.events) ? json.events : [];
  if (events.length === 0 || events.length > 25) out.push(`${events.length} events (1 to 25)`);
  if (json?.timestamp_micros !== undefined && !(Number(json.timestamp_micros) > Date.now() * 1000 - 72 * 3600e6)) out.push("timestamp_micros older than 72 h");
  for (const e of events) if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(e?.name ?? "")) out.push(`event name "${e?.name}"`);
  return out;
}

export function startLab({ port = 0, measurementPath = "/metrics" } = {}) {
  const state = { mode: "pixel", records: [], unmatched: [] };
  const record = (r) => state.records.push({ at: Date.now(), ...r });

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      try {
        handle(req, Buffer.concat(chunks), res);
      } catch (err) {
        res.writeHead(500, { "content-type": "text/plain" }).end(String(err?.stack ?? err));
      }
    });
  });

  function handle(req, body, res) {
    const url = new URL(req.url, "http://lab");
    const host = (req.headers.host ?? "").split(":")[0];
    // Requests the gateway makes carry its own Host (the upstream's, 127.0.0.1): the hit came through it.
    const via = host === "127.0.0.1" ? "gateway" : "direct";
    const p = url.pathname;
    const q = url.searchParams;
    const cookies = cookieNames(req.headers.cookie);
    const googleCookies = cookies.filter((n) => GOOGLE_ID_COOKIE.test(n));

    if (host === SHOP_HOST && (p === "/" || p === "/product" || p === "/thanks")) {
      const page = p === "/" ? "landing" : p.slice(1);
      const order = page === "thanks" && q.get("order") ? { orderId: q.get("order"), value: q.get("value") } : null;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(renderPage({ page, mode: state.mode, measurementPath, order }));
      return;
    }
    if (p === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (p === "/gtag/js") {
      // As Google answers its loaders: private, 15 minutes (the gateway caches it anyway: no cookie went upstream).
      res.writeHead(200, { "content-type": "application/javascript; charset=utf-8", "cache-control": "private, max-age=900" });
      res.end(GTAG);
      return;
    }
    if (p === "/en_US/fbevents.js") {
      res.writeHead(200, { "content-type": "application/javascript; charset=utf-8", "cache-control": "public, max-age=1200" });
      res.end(FBEVENTS);
      return;
    }
    if (p === "/g/collect") {
      const lines = body.length ? body.toString("utf8").split("\n").filter(Boolean) : [""];
      for (const line of lines) {
        const e = new URLSearchParams(q);
        for (const [k, v] of new URLSearchParams(line)) e.set(k, v);
        const txn = e.get("ep.transaction_id");
        const cid = e.get("cid");
        record({ dest: "ga4", channel: "browser", via, event: e.get("en"), ...attribute(e.get("dl"), txn), txn, dedupKey: txn, id: cid, identified: Boolean(cid) || googleCookies.length > 0, cookies: googleCookies, consent: e.get("gcs") });
      }
      res.writeHead(204, { "access-control-allow-origin": "*" }).end();
      return;
    }
    if (p === "/ccm/collect" || p.startsWith("/pagead/conversion/")) {
      const txn = q.get("oid");
      const gclaw = q.get("gclaw");
      record({ dest: "ads", channel: "browser", via, event: txn ? "purchase" : q.get("en") ?? "page_view", ...attribute(q.get("url"), txn), txn, dedupKey: txn, id: gclaw, identified: Boolean(gclaw) || googleCookies.length > 0, cookies: googleCookies, consent: q.get("gcs") });
      res.writeHead(204).end();
      return;
    }
    if (p === "/tr" || p === "/tr/") {
      const ev = EVENT[q.get("ev")] ?? q.get("ev");
      const eid = q.get("eid");
      // Meta's pixel has no cookieless mode: every event identifies the browser (IP, user agent, fbp).
      record({ dest: "meta", channel: "browser", via, event: ev, ...attribute(q.get("dl"), ev === "purchase" ? eid : null), txn: ev === "purchase" ? eid : null, dedupKey: eid, id: q.get("fbp"), identified: true });
      res.writeHead(200, { "content-type": "image/gif" }).end(Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64"));
      return;
    }
    if (req.method === "POST" && /^\/v\d+\.\d+\/\d+\/events$/.test(p)) {
      const json = JSON.parse(body.toString("utf8"));
      const data = json.data ?? [];
      for (const d of data) {
        const name = pick(d, "event_name", "eventName");
        const ev = EVENT[name] ?? name;
        const eventId = pick(d, "event_id", "eventId");
        const custom = pick(d, "custom_data", "customData") ?? {};
        const user = pick(d, "user_data", "userData") ?? {};
        const txn = ev === "purchase" ? pick(custom, "order_id", "orderId") ?? eventId : null;
        record({ dest: "meta", channel: "server", via: "capi", event: ev, ...attribute(pick(d, "event_source_url", "eventSourceUrl"), txn), txn, dedupKey: eventId, id: pick(user, "fbp") ?? null, identified: true });
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ events_received: data.length, messages: [], fbtrace_id: "lab" }));
      return;
    }
    if (req.method === "POST" && p === "/v1/events:ingest") {
      const json = JSON.parse(body.toString("utf8"));
      for (const e of json.events ?? []) {
        const txn = e.transactionId ?? null;
        const gclid = e.adIdentifiers?.gclid ?? null;
        record({ dest: "ads", channel: "server", via: "capi", event: "purchase", ...attribute(null, txn), txn, dedupKey: txn, id: gclid, identified: Boolean(e.userData || e.adIdentifiers || e.clientId) });
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requestId: "lab" }));
      return;
    }
    if (req.method === "POST" && p === "/mp/collect") {
      // GA4 Measurement Protocol: the gap-fill destination (issue #13). Google's collect endpoint answers 2xx to
      // anything, so what it would silently discard is listed with the unmatched requests instead.
      const json = JSON.parse(body.toString("utf8"));
      const problems = mpProblems(q, json);
      if (problems.length) {
        for (const problem of problems) state.unmatched.push(`invalid Measurement Protocol request: ${problem}`);
        res.writeHead(204).end();
        return;
      }
      for (const e of json.events ?? []) {
        const txn = e.params?.transaction_id ?? null;
        const ev = EVENT[e.name] ?? e.name;
        record({ dest: "ga4", channel: "server", via: "capi", event: ev, ...attribute(e.params?.page_location, txn), txn, dedupKey: txn, id: json.client_id ?? null, identified: Boolean(json.client_id || json.user_id || json.user_data) });
      }
      res.writeHead(204).end();
      return;
    }
    state.unmatched.push(`${req.method} ${host}${p}`);
    res.writeHead(404, { "content-type": "text/plain" }).end("not in the lab\n");
  }

  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      resolve({
        port: server.address().port,
        state,
        setMode(mode) {
          state.mode = mode;
        },
        takeRecords() {
          const out = { records: state.records, unmatched: state.unmatched };
          state.records = [];
          state.unmatched = [];
          return out;
        },
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
