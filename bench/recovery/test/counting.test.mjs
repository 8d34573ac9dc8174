import { test } from "node:test";
import assert from "node:assert/strict";
import { purchaseFigures, continuityFigures, refusedFigures, consentedPurchases } from "../lib/counting.mjs";

// Four visitors by hand: a granted buyer who returns, a "later" buyer, a refused buyer, a granted Safari returner.
const visit = (n, orderId) => ({ n, purchase: orderId ? { orderId, value: 10 } : null });
const visitors = [
  { id: "a", consent: "granted", safari: false, visits: [visit(1, "T-a-1"), visit(2, "T-a-2")] },
  { id: "b", consent: "later", safari: false, visits: [visit(1, "T-b-1")] },
  { id: "c", consent: "refused", safari: false, visits: [visit(1, "T-c-1")] },
  { id: "d", consent: "granted", safari: true, visits: [visit(1, null), visit(2, null)] },
];
const rec = (o) => ({ dest: "meta", channel: "browser", event: "purchase", visitor: "a", visit: 1, txn: null, dedupKey: null, id: null, identified: true, at: 0, ...o });

test("consented purchases: granted and granted-later count, refused does not", () => {
  assert.deepEqual(consentedPurchases(visitors).map((p) => p.txn), ["T-a-1", "T-a-2", "T-b-1"]);
});

test("a purchase is delivered once per transaction whatever the channels; each channel mix is counted", () => {
  const records = [
    rec({ txn: "T-a-1", dedupKey: "T-a-1" }),
    rec({ txn: "T-a-1", dedupKey: "T-a-1", channel: "server" }),
    rec({ txn: "T-b-1", dedupKey: "T-b-1", channel: "server", visitor: "b" }),
    rec({ txn: "T-c-1", dedupKey: "T-c-1", visitor: "c" }), // refused: not in the denominator, not delivered
    rec({ txn: "T-a-1", dedupKey: "T-a-1", dest: "ga4" }), // another platform
  ];
  const f = purchaseFigures(records, visitors, "meta");
  assert.equal(f.consented, 3);
  assert.equal(f.delivered, 2);
  assert.equal(f.rate, 2 / 3);
  assert.deepEqual(f.byChannel, { browser: 0, server: 1, both: 1 });
  assert.equal(f.countedTwice, 0);
  assert.equal(f.repeatsSameKey, 0);
});

test("counted twice: one purchase under two keys; a repeat under one key is reported apart", () => {
  const records = [
    rec({ txn: "T-a-1", dedupKey: "T-a-1" }),
    rec({ txn: "T-a-1", dedupKey: "s2s.abc", channel: "server" }),
    rec({ txn: "T-a-2", dedupKey: "T-a-2", channel: "server", visit: 2 }),
    rec({ txn: "T-a-2", dedupKey: "T-a-2", channel: "server", visit: 2 }),
  ];
  const f = purchaseFigures(records, visitors, "meta");
  assert.equal(f.countedTwice, 1);
  assert.equal(f.repeatsSameKey, 1);
});

test("no consented purchase gives a rate of null, not 0 or 1", () => {
  assert.equal(purchaseFigures([], [visitors[2]], "meta").rate, null);
});

test("identity continuity: the return visit's last identified event decides; a fresh start is counted", () => {
  const records = [
    rec({ event: "page_view", visitor: "a", visit: 1, id: "1.1", at: 1 }),
    rec({ event: "page_view", visitor: "a", visit: 2, id: "9.9", at: 2 }), // the script minted a new id first…
    rec({ event: "page_view", visitor: "a", visit: 2, id: "1.1", at: 3 }), // …and the old one came back
    rec({ event: "page_view", visitor: "d", visit: 1, id: "2.2", at: 1 }),
    rec({ event: "page_view", visitor: "d", visit: 2, id: "7.7", at: 2 }),
    rec({ event: "page_view", visitor: "c", visit: 1, id: "3.3", at: 1 }), // refused: never eligible
  ];
  const all = continuityFigures(records, visitors, "meta");
  assert.deepEqual(all, { eligible: 2, kept: 1, rate: 0.5, startedNew: 2 });
  const safari = continuityFigures(records, visitors, "meta", (v) => v.safari);
  assert.deepEqual(safari, { eligible: 1, kept: 0, rate: 0, startedNew: 1 });
});

test("a returning visitor whose return visit never reached the platform is not continuous", () => {
  const records = [rec({ event: "page_view", visitor: "a", visit: 1, id: "1.1" })];
  assert.deepEqual(continuityFigures(records, visitors, "meta"), { eligible: 1, kept: 0, rate: 0, startedNew: 0 });
});

test("refused visitors: identified events and cookieless pings are counted apart", () => {
  const records = [
    rec({ visitor: "c", identified: false, dest: "ga4" }),
    rec({ visitor: "c", identified: false, dest: "ga4" }),
    rec({ visitor: "c", identified: true, dest: "ga4" }),
    rec({ visitor: "a", identified: true, dest: "ga4" }),
  ];
  assert.deepEqual(refusedFigures(records, visitors, "ga4"), { identified: 1, anonymous: 2 });
  assert.deepEqual(refusedFigures(records, visitors, "meta"), { identified: 0, anonymous: 0 });
});
