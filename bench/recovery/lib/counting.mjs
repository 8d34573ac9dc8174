// From what the fake platforms recorded to the figures. Pure: records and the population in, figures out.
//
// A record is one event as a platform received it:
//   { dest: "ga4" | "ads" | "meta" | "ga4-mp", channel: "browser" | "server", event: "page_view" | "purchase" | …,
//     visitor, visit, txn, dedupKey, id (the platform's visitor identifier, or null), identified (bool), at (ms) }
// `identified` says the event carried anything that identifies the visitor (a cookie identifier, a click ID,
// hashed user data, an IP or user agent in a conversion API payload); a Consent Mode cookieless ping does not.
import { consentAt } from "./population.mjs";

const PURCHASE_PAGE = 2; // landing, product, thanks

export function consentedPurchases(visitors) {
  const out = [];
  for (const v of visitors) for (const visit of v.visits) if (visit.purchase && consentAt(v, PURCHASE_PAGE)) out.push({ visitor: v, visit, txn: visit.purchase.orderId });
  return out;
}

/** Share as a number in [0, 1], or null when the denominator is 0 (shown as "n/a", never as 0 % or 100 %). */
const share = (n, d) => (d === 0 ? null : n / d);

export function purchaseFigures(records, visitors, dest) {
  const consented = consentedPurchases(visitors);
  const purchases = records.filter((r) => r.dest === dest && r.event === "purchase" && r.txn);
  const byTxn = new Map();
  for (const r of purchases) {
    if (!byTxn.has(r.txn)) byTxn.set(r.txn, []);
    byTxn.get(r.txn).push(r);
  }
  let delivered = 0;
  const byChannel = { browser: 0, server: 0, both: 0 };
  for (const p of consented) {
    const got = byTxn.get(p.txn);
    if (!got) continue;
    delivered++;
    const b = got.some((r) => r.channel === "browser");
    const s = got.some((r) => r.channel === "server");
    if (b && s) byChannel.both++;
    else if (b) byChannel.browser++;
    else byChannel.server++;
  }
  // Counted twice: the platform received one purchase under two different deduplication keys, so its own
  // deduplication (Meta: event name + event_id; GA4: transaction_id; Google Ads: order id) cannot merge them.
  // Repeats under the same key are reported apart: the platform drops those.
  let countedTwice = 0;
  let repeatsSameKey = 0;
  for (const got of byTxn.values()) {
    const keys = new Set(got.map((r) => r.dedupKey ?? r.txn));
    if (keys.size > 1) countedTwice++;
    const perKey = new Map();
    for (const r of got) {
      const k = `${r.channel}|${r.dedupKey ?? r.txn}`;
      perKey.set(k, (perKey.get(k) ?? 0) + 1);
    }
    for (const n of perKey.values()) if (n > 1) repeatsSameKey += n - 1;
  }
  return { consented: consented.length, delivered, rate: share(delivered, consented.length), byChannel, countedTwice, repeatsSameKey };
}

/**
 * Identity continuity: of the consenting returning visitors whose first visit reached the platform with an
 * identifier, the share whose return visit reached it with the same one. The return visit's last identified event
 * decides (a platform stitches a session by its later hits); `startedNew` counts return visits whose first
 * identified event carried another identifier (a phantom new visitor in the platform's reports).
 */
export function continuityFigures(records, visitors, dest, filter = () => true) {
  const byVisit = new Map();
  for (const r of records) {
    if (r.dest !== dest || !r.id) continue;
    const k = `${r.visitor}|${r.visit}`;
    if (!byVisit.has(k)) byVisit.set(k, []);
    byVisit.get(k).push(r);
  }
  let eligible = 0;
  let kept = 0;
  let startedNew = 0;
  for (const v of visitors) {
    if (v.visits.length < 2 || v.consent === "refused" || !filter(v)) continue;
    const first = (byVisit.get(`${v.id}|1`) ?? []).sort((a, b) => a.at - b.at);
    if (first.length === 0) continue;
    eligible++;
    const original = first[first.length - 1].id;
    const second = (byVisit.get(`${v.id}|2`) ?? []).sort((a, b) => a.at - b.at);
    if (second.length === 0) continue;
    if (second[second.length - 1].id === original) kept++;
    if (second[0].id !== original) startedNew++;
  }
  return { eligible, kept, rate: share(kept, eligible), startedNew };
}

/**
 * What reached a platform for visitors who refused consent (on every page of every visit).
 * `identified` must be 0. `anonymous` are Consent Mode cookieless pings, which Google's advanced consent mode sends
 * by design and which carry no identifier; they are reported, not hidden.
 */
export function refusedFigures(records, visitors, dest) {
  const refused = new Set(visitors.filter((v) => v.consent === "refused").map((v) => v.id));
  let identified = 0;
  let anonymous = 0;
  for (const r of records) {
    if (r.dest !== dest || !refused.has(r.visitor)) continue;
    if (r.identified) identified++;
    else anonymous++;
  }
  return { identified, anonymous };
}

export function figures(records, visitors, dests) {
  const out = {};
  for (const dest of dests) {
    out[dest] = {
      purchases: purchaseFigures(records, visitors, dest),
      continuity: continuityFigures(records, visitors, dest),
      continuitySafari: continuityFigures(records, visitors, dest, (v) => v.safari),
      refused: refusedFigures(records, visitors, dest),
    };
  }
  return out;
}
