import { test } from "node:test";
import assert from "node:assert/strict";
import { allPurchases, gapFillFigures, gapFillChecks, promSum, gapFillMetrics } from "../lib/gap-fill.mjs";

// By hand: a granted buyer (two purchases), a blocked granted buyer, a "later" buyer (granted by the purchase page),
// a refused buyer and a blocked refused buyer.
const visit = (n, orderId) => ({ n, purchase: orderId ? { orderId, value: 10 } : null });
const visitors = [
  { id: "a", consent: "granted", blocker: false, visits: [visit(1, "T-a-1"), visit(2, "T-a-2")] },
  { id: "b", consent: "granted", blocker: true, visits: [visit(1, "T-b-1")] },
  { id: "c", consent: "later", blocker: false, visits: [visit(1, "T-c-1")] },
  { id: "d", consent: "refused", blocker: false, visits: [visit(1, "T-d-1")] },
  { id: "e", consent: "refused", blocker: true, visits: [visit(1, null), visit(2, "T-e-2")] },
];
const hit = (txn, o = {}) => ({ dest: "ga4", channel: "browser", event: "purchase", txn, identified: true, ...o });
const mp = (txn, o = {}) => ({ dest: "ga4", channel: "server", event: "purchase", txn, identified: true, ...o });

test("purchases: consent at the purchase page decides, the blocker is the visitor's", () => {
  const p = allPurchases(visitors);
  assert.deepEqual(p.map((x) => [x.txn, x.consented, x.blocked]), [
    ["T-a-1", true, false],
    ["T-a-2", true, false],
    ["T-b-1", true, true],
    ["T-c-1", true, false],
    ["T-d-1", false, false],
    ["T-e-2", false, true],
  ]);
});

test("each consented purchase once, by the browser or by the Measurement Protocol: every check holds", () => {
  const records = [
    hit("T-a-1"),
    hit("T-a-2"),
    mp("T-b-1"),
    hit("T-c-1"),
    hit("T-d-1", { identified: false }), // a refused visitor's cookieless ping: reported, allowed
    { dest: "ga4", channel: "browser", event: "page_view", txn: null, identified: true },
    hit("T-a-1", { dest: "ads" }), // another platform's receipt does not count for GA
  ];
  const f = gapFillFigures(records, visitors);
  assert.equal(f.purchases, 6);
  assert.equal(f.consented, 4);
  assert.equal(f.consentedBlocked, 1);
  assert.equal(f.reachedViaBrowser, 3);
  assert.equal(f.reachedViaMp, 1);
  assert.equal(f.reachedViaMpBlocked, 1);
  assert.equal(f.missing, 0);
  assert.equal(f.reachedTwice, 0);
  assert.equal(f.refused, 2);
  assert.equal(f.refusedCookieless, 1);
  assert.equal(f.refusedViaMp, 0);
  assert.equal(f.refusedIdentified, 0);
  assert.ok(gapFillChecks(f).every((c) => c.ok));
});

test("a missing purchase, a purchase by both channels and a refused purchase by MP each fail their check", () => {
  const records = [
    hit("T-a-1"),
    mp("T-a-1"), // twice: the gap-fill sent a purchase the browser had reported
    hit("T-a-2"),
    hit("T-a-2"), // twice by one channel
    // T-b-1 never arrives: the blocked visitor's purchase is lost
    hit("T-c-1"),
    mp("T-d-1"), // refused, yet sent by MP
    hit("T-e-2", { identified: true }), // refused, yet identified
  ];
  const f = gapFillFigures(records, visitors);
  assert.equal(f.missing, 1);
  assert.deepEqual(f.missingTxns, ["T-b-1"]);
  assert.equal(f.reachedTwice, 2);
  assert.deepEqual(f.twiceTxns, ["T-a-1", "T-a-2"]);
  assert.equal(f.reachedViaBrowser, 1);
  assert.equal(f.refusedViaMp, 1);
  assert.equal(f.refusedIdentified, 1);
  assert.deepEqual(f.refusedTxns, ["T-d-1", "T-e-2"]);
  const failed = gapFillChecks(f).filter((c) => !c.ok).map((c) => c.check);
  assert.equal(failed.length, 4);
  assert.equal(gapFillChecks(gapFillFigures([], []), { invalidMpRequests: 1 }).filter((c) => !c.ok).length, 1);
});

test("promSum: sums one metric by a label, filtered by the others; comments and other metrics ignored", () => {
  const text = [
    "# HELP taggateway_capi_gap_fill_events_total Google Analytics gap-fill",
    "# TYPE taggateway_capi_gap_fill_events_total counter",
    'taggateway_capi_gap_fill_events_total{outcome="sent"} 7',
    'taggateway_capi_gap_fill_events_total{outcome="cancelled_by_browser"} 30',
    'taggateway_capi_gap_fill_events_total_other{outcome="sent"} 99',
    'taggateway_capi_events_dropped_total{destination="google_analytics",reason="consent"} 9',
    'taggateway_capi_events_dropped_total{destination="meta",reason="consent"} 4',
    'taggateway_capi_events_dropped_total{destination="google_analytics",reason="no_client_id"} 1',
    'taggateway_capi_events_dropped_total{reason="consent",destination="google_analytics"} 2',
    "not a sample line",
  ].join("\n");
  assert.deepEqual(promSum(text, "taggateway_capi_gap_fill_events_total", "outcome"), { sent: 7, cancelled_by_browser: 30 });
  assert.deepEqual(promSum(text, "taggateway_capi_events_dropped_total", "reason", { destination: "google_analytics" }), { consent: 11, no_client_id: 1 });
  const m = gapFillMetrics(text);
  assert.deepEqual({ sent: m.sent, cancelled: m.cancelledByBrowser, late: m.lateBrowserTwin, stale: m.droppedStale }, { sent: 7, cancelled: 30, late: 0, stale: 0 });
  assert.deepEqual(gapFillMetrics(""), { sent: 0, cancelledByBrowser: 0, lateBrowserTwin: 0, droppedStale: 0, droppedByReason: {} });
});
