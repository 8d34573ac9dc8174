import { test } from "node:test";
import assert from "node:assert/strict";
import { makePopulation, prng, consentAt, summarize, DEFAULT_MIX } from "../lib/population.mjs";

test("the same seed draws the same population; another seed another", () => {
  const a = makePopulation({ count: 20, seed: 7 });
  assert.deepEqual(makePopulation({ count: 20, seed: 7 }), a);
  assert.notDeepEqual(makePopulation({ count: 20, seed: 8 }), a);
});

test("visitor i does not depend on the population size", () => {
  const small = makePopulation({ count: 5, seed: 42 });
  const large = makePopulation({ count: 50, seed: 42 });
  assert.deepEqual(large.slice(0, 5), small);
});

test("prng is the published mulberry32 sequence", () => {
  // mulberry32(1) first outputs, as computed by the reference implementation.
  const r = prng(1);
  assert.deepEqual([r(), r(), r()].map((x) => x.toFixed(10)), ["0.6270739406", "0.0027357212", "0.5274470400"]);
});

test("shares of 0 and 1 are honoured exactly", () => {
  const mix = { ...DEFAULT_MIX, blockerShare: 1, safariShare: 0, returnShare: 1, purchaseFirst: 0, purchaseReturn: 1, gclidShare: 0, fbclidShare: 1, consent: { granted: 0, refused: 1, later: 0 } };
  const vs = makePopulation({ count: 10, seed: 3, mix });
  assert.ok(vs.every((v) => v.blocker && !v.safari && v.consent === "refused"));
  assert.ok(vs.every((v) => v.visits.length === 2 && !v.visits[0].purchase && v.visits[1].purchase));
  assert.ok(vs.every((v) => v.visits[0].gclid === null && /^IwAR/.test(v.visits[0].fbclid) && v.visits[1].fbclid === null));
  assert.equal(vs[3].visits[1].purchase.orderId, "T-v0003-2");
  assert.equal(vs[3].visits[1].dayOffset, 8);
});

test("consent shares that do not add up to 1 are refused", () => {
  assert.throws(() => makePopulation({ count: 1, seed: 1, mix: { ...DEFAULT_MIX, consent: { granted: 0.5, refused: 0.2, later: 0.2 } } }), /add up to 1/);
});

test("the default mix lands near its shares on a large draw", () => {
  const s = summarize(makePopulation({ count: 4000, seed: 19 }));
  const near = (n, p) => Math.abs(n / 4000 - p) < 0.03;
  assert.ok(near(s.blocker, 0.3), `blocker ${s.blocker}`);
  assert.ok(near(s.safari, 0.3), `safari ${s.safari}`);
  assert.ok(near(s.consent.refused, 0.25), `refused ${s.consent.refused}`);
  assert.ok(near(s.returning, 0.5), `returning ${s.returning}`);
});

test("consent 'later' is refused on the landing page and granted from the second page", () => {
  const v = (consent) => ({ consent });
  assert.deepEqual([0, 1, 2].map((p) => consentAt(v("later"), p)), [false, true, true]);
  assert.deepEqual([0, 1, 2].map((p) => consentAt(v("granted"), p)), [true, true, true]);
  assert.deepEqual([0, 1, 2].map((p) => consentAt(v("refused"), p)), [false, false, false]);
});
