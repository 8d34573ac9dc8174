// GA4 gap-fill (issue #13): per purchase (by transaction_id), what reached the fake Google Analytics, and the checks
// the "Done means" asks for. Pure: records, the population and the gateway's /metrics text in, figures out.
//
// A GA4 purchase arrives either as a browser hit (/g/collect, forwarded by the gateway or sent to Google's host) or as
// a Measurement Protocol event (/mp/collect, the gateway's gap-fill). "Exactly once" is counted on receipts, without
// crediting whatever deduplication GA itself may do: every consented purchase must arrive one time, by one channel.
import { consentAt } from "./population.mjs";

const PURCHASE_PAGE = 2; // landing, product, thanks

/** Every purchase of the population with whether it was made with consent and whether the visitor blocks the tag. */
export function allPurchases(visitors) {
  const out = [];
  for (const v of visitors) for (const visit of v.visits) if (visit.purchase) out.push({ txn: visit.purchase.orderId, visitor: v.id, consented: consentAt(v, PURCHASE_PAGE), blocked: Boolean(v.blocker) });
  return out;
}

export function gapFillFigures(records, visitors) {
  const receipts = new Map();
  for (const r of records) {
    if (r.dest !== "ga4" || r.event !== "purchase" || !r.txn) continue;
    if (!receipts.has(r.txn)) receipts.set(r.txn, []);
    receipts.get(r.txn).push(r);
  }
  const f = {
    purchases: 0,
    consented: 0,
    consentedBlocked: 0,
    reachedViaBrowser: 0,
    reachedViaMp: 0,
    reachedViaMpBlocked: 0,
    missing: 0,
    reachedTwice: 0,
    refused: 0,
    refusedViaMp: 0,
    refusedIdentified: 0,
    refusedCookieless: 0,
    missingTxns: [],
    twiceTxns: [],
    refusedTxns: [],
  };
  for (const p of allPurchases(visitors)) {
    f.purchases++;
    const got = receipts.get(p.txn) ?? [];
    const browser = got.filter((r) => r.channel === "browser");
    const mp = got.filter((r) => r.channel === "server");
    if (!p.consented) {
      // Refused: no Measurement Protocol event and nothing identifying may arrive. Consent Mode's cookieless pings
      // (no cid, no cookie) are Google's advanced consent mode by design and are reported, not hidden.
      f.refused++;
      f.refusedViaMp += mp.length > 0 ? 1 : 0;
      f.refusedIdentified += browser.some((r) => r.identified) ? 1 : 0;
      f.refusedCookieless += browser.length > 0 && !browser.some((r) => r.identified) && mp.length === 0 ? 1 : 0;
      if (mp.length > 0 || browser.some((r) => r.identified)) f.refusedTxns.push(p.txn);
      continue;
    }
    f.consented++;
    if (p.blocked) f.consentedBlocked++;
    if (got.length === 0) {
      f.missing++;
      f.missingTxns.push(p.txn);
    } else if (got.length > 1) {
      f.reachedTwice++;
      f.twiceTxns.push(p.txn);
    } else if (browser.length === 1) {
      f.reachedViaBrowser++;
    } else {
      f.reachedViaMp++;
      if (p.blocked) f.reachedViaMpBlocked++;
    }
  }
  return f;
}

/** The done criterion, as named checks (all must hold); invalidMpRequests: what the fake MP endpoint refused. */
export function gapFillChecks(f, { invalidMpRequests = 0 } = {}) {
  return [
    { check: "every Measurement Protocol request valid", ok: invalidMpRequests === 0, value: invalidMpRequests },
    { check: "every consented purchase reached GA", ok: f.missing === 0, value: `${f.consented - f.missing}/${f.consented}` },
    { check: "no consented purchase reached GA twice", ok: f.reachedTwice === 0, value: f.reachedTwice },
    { check: "no refused purchase reached GA by Measurement Protocol", ok: f.refusedViaMp === 0, value: f.refusedViaMp },
    { check: "no refused purchase reached GA with an identifier", ok: f.refusedIdentified === 0, value: f.refusedIdentified },
  ];
}

/**
 * Sums Prometheus text-format samples of one metric by one label: { labelValue: total }. Samples whose other labels
 * do not match `where` are left out. Comments, other metrics and malformed lines are ignored.
 */
export function promSum(text, metric, by, where = {}) {
  const out = {};
  for (const line of (text ?? "").split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const labels = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (Object.entries(where).some(([k, v]) => labels[k] !== v)) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const key = labels[by] ?? "";
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

/** What the gateway itself counted for the gap-fill and for Google Analytics' drops, from its /metrics. */
export function gapFillMetrics(text) {
  const outcomes = promSum(text, "taggateway_capi_gap_fill_events_total", "outcome");
  return {
    sent: outcomes.sent ?? 0,
    cancelledByBrowser: outcomes.cancelled_by_browser ?? 0,
    lateBrowserTwin: outcomes.late_browser_twin ?? 0,
    droppedStale: outcomes.dropped_stale ?? 0,
    droppedByReason: promSum(text, "taggateway_capi_events_dropped_total", "reason", { destination: "google_analytics" }),
  };
}
