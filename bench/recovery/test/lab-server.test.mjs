// The fakes' recording, over real HTTP on loopback: what a platform receives becomes one record, attributed to the
// visitor by the page URL (?lab=) or the order id.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startLab, attribute } from "../lab/server.mjs";

test("attribution: the lab page parameter first, then the order id", () => {
  assert.deepEqual(attribute("https://www.lab-shop.test/product?lab=v0007.2", null), { visitor: "v0007", visit: 2 });
  assert.deepEqual(attribute(null, "T-v0012-1"), { visitor: "v0012", visit: 1 });
  assert.deepEqual(attribute("not a url", "nonsense"), { visitor: null, visit: null });
});

test("GA4 hits, Ads pings, Meta pixel and both conversion APIs are recorded as the counting expects", async (t) => {
  const lab = await startLab({});
  t.after(() => lab.close());
  const base = `http://127.0.0.1:${lab.port}`;
  const dl = encodeURIComponent("https://www.lab-shop.test/thanks?lab=v0001.1");
  // Through the gateway (Host 127.0.0.1), a purchase with a client id and Google's cookies forwarded.
  await fetch(`${base}/g/collect?v=2&tid=G-LAB12345&cid=1.2&en=purchase&dl=${dl}&ep.transaction_id=T-v0001-1&gcs=G111`, { method: "POST", headers: { cookie: "_ga=GA1.1.1.2; FPID=x; other=1" } });
  // A cookieless ping (consent denied): no cid, no Google cookie.
  await fetch(`${base}/g/collect?v=2&tid=G-LAB12345&en=page_view&dl=${dl}&gcs=G100`, { method: "POST" });
  await fetch(`${base}/pagead/conversion/AW-LAB12345/?label=purchase&oid=T-v0001-1&gclaw=Cj0Kabc&url=${dl}`);
  await fetch(`${base}/tr/?id=1&ev=Purchase&eid=T-v0001-1&fbp=fb.1.1.1&dl=${dl}`);
  const meta = await fetch(`${base}/v24.0/100200300400/events`, { method: "POST", body: JSON.stringify({ data: [{ event_name: "Purchase", event_id: "T-v0001-1", user_data: { fbp: "fb.1.1.1" }, custom_data: { order_id: "T-v0001-1" } }] }) });
  assert.equal((await meta.json()).events_received, 1);
  await fetch(`${base}/v1/events:ingest`, { method: "POST", body: JSON.stringify({ events: [{ transactionId: "T-v0001-1", consent: { adUserData: "CONSENT_DENIED" } }] }) });
  const { records, unmatched } = lab.takeRecords();
  const brief = records.map(({ dest, channel, via, event, visitor, visit, txn, dedupKey, id, identified }) => ({ dest, channel, via, event, visitor, visit, txn, dedupKey, id, identified }));
  assert.deepEqual(brief, [
    { dest: "ga4", channel: "browser", via: "gateway", event: "purchase", visitor: "v0001", visit: 1, txn: "T-v0001-1", dedupKey: "T-v0001-1", id: "1.2", identified: true },
    { dest: "ga4", channel: "browser", via: "gateway", event: "page_view", visitor: "v0001", visit: 1, txn: null, dedupKey: null, id: null, identified: false },
    { dest: "ads", channel: "browser", via: "gateway", event: "purchase", visitor: "v0001", visit: 1, txn: "T-v0001-1", dedupKey: "T-v0001-1", id: "Cj0Kabc", identified: true },
    { dest: "meta", channel: "browser", via: "gateway", event: "purchase", visitor: "v0001", visit: 1, txn: "T-v0001-1", dedupKey: "T-v0001-1", id: "fb.1.1.1", identified: true },
    { dest: "meta", channel: "server", via: "capi", event: "purchase", visitor: "v0001", visit: 1, txn: "T-v0001-1", dedupKey: "T-v0001-1", id: "fb.1.1.1", identified: true },
    // Google Ads without user data or ad identifiers: a consent-denied conversion, not identifying.
    { dest: "ads", channel: "server", via: "capi", event: "purchase", visitor: "v0001", visit: 1, txn: "T-v0001-1", dedupKey: "T-v0001-1", id: null, identified: false },
  ]);
  assert.deepEqual(records[0].cookies, ["_ga", "FPID"]);
  assert.deepEqual(unmatched, []);
});

test("the shop's pages carry the scenario's tag source", async (t) => {
  const lab = await startLab({});
  t.after(() => lab.close());
  // fetch cannot set Host; the shop answers only under its own host name, as nginx passes it.
  const get = () =>
    new Promise((resolve, reject) => {
      http.get({ host: "127.0.0.1", port: lab.port, path: "/?lab=v0000.1", headers: { host: "www.lab-shop.test" } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      }).on("error", reject);
    });
  assert.match(await get(), /src="https:\/\/www\.googletagmanager\.com\/gtag\/js\?id=G-LAB12345"/);
  lab.setMode("gateway");
  assert.match(await get(), /src="\/metrics\/gtag\/js\?id=G-LAB12345"/);
});

test("a Measurement Protocol event is a GA4 server record; a request Google would discard is listed, not recorded", async (t) => {
  const lab = await startLab({});
  t.after(() => lab.close());
  const mp = (query, body) => fetch(`http://127.0.0.1:${lab.port}/mp/collect?${query}`, { method: "POST", body: JSON.stringify(body) });
  const purchase = { name: "purchase", params: { transaction_id: "T-v0003-2", value: 12, currency: "EUR", page_location: "https://www.lab-shop.test/thanks?lab=v0003.2" } };
  assert.equal((await mp("measurement_id=G-LAB12345&api_secret=s", { client_id: "11.22", timestamp_micros: Date.now() * 1000, events: [purchase] })).status, 204);
  assert.equal((await mp("measurement_id=G-LAB12345", { client_id: "11.22", events: [purchase] })).status, 204);
  assert.equal((await mp("measurement_id=G-LAB12345&api_secret=s", { events: [purchase] })).status, 204);
  assert.equal((await mp("measurement_id=G-LAB12345&api_secret=s", { client_id: "11.22", events: Array(26).fill(purchase) })).status, 204);
  const { records, unmatched } = lab.takeRecords();
  assert.deepEqual(
    records.map(({ dest, channel, via, event, visitor, visit, txn, dedupKey, id, identified }) => ({ dest, channel, via, event, visitor, visit, txn, dedupKey, id, identified })),
    [{ dest: "ga4", channel: "server", via: "capi", event: "purchase", visitor: "v0003", visit: 2, txn: "T-v0003-2", dedupKey: "T-v0003-2", id: "11.22", identified: true }],
  );
  assert.deepEqual(unmatched, [
    "invalid Measurement Protocol request: api_secret missing",
    "invalid Measurement Protocol request: client_id missing",
    "invalid Measurement Protocol request: 26 events (1 to 25)",
  ]);
});
