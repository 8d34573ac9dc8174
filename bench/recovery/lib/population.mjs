// The seeded visitor population. Pure: the same options and seed give the same visitors, in both scenarios.

/** mulberry32: a small, well-mixed 32-bit PRNG; enough for drawing a population, and reproducible everywhere. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEFAULT_MIX = Object.freeze({
  blockerShare: 0.3, // EasyList + EasyPrivacy (desktop ad-blocker use is commonly put at a quarter to a third)
  safariShare: 0.3, // the Safari cookie model (Safari's share of web traffic is about a quarter to a third)
  consent: Object.freeze({ granted: 0.6, refused: 0.25, later: 0.15 }), // "later": refuses on the first page, accepts on the second
  gclidShare: 0.3, // lands from a Google Ads click (gclid on the URL)
  fbclidShare: 0.2, // lands from a Meta ad click (fbclid on the URL)
  returnShare: 0.5, // comes back after returnDays
  returnDays: 8,
  purchaseFirst: 0.3, // buys on the first visit
  purchaseReturn: 0.4, // buys on the return visit
});

const pick = (r, shares) => {
  let x = r();
  const entries = Object.entries(shares);
  for (const [name, share] of entries) {
    if (x < share) return name;
    x -= share;
  }
  return entries[entries.length - 1][0];
};

const token = (r, n) => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
};

/**
 * Draws `count` visitors. Each draw uses a fixed number of random numbers in a fixed order, so changing one share
 * changes only what it decides, and visitor i is the same visitor whatever `count` is.
 */
export function makePopulation({ count, seed, mix = DEFAULT_MIX }) {
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, not ${count}`);
  const shares = Object.values(mix.consent).reduce((a, b) => a + b, 0);
  if (Math.abs(shares - 1) > 1e-9) throw new Error(`consent shares must add up to 1, not ${shares}`);
  const visitors = [];
  for (let i = 0; i < count; i++) {
    const r = prng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const id = `v${String(i).padStart(4, "0")}`;
    const blocker = r() < mix.blockerShare;
    const safari = r() < mix.safariShare;
    const consent = pick(r, mix.consent);
    const gclid = r() < mix.gclidShare ? `Cj0K${token(r, 24)}` : null;
    const fbclid = r() < mix.fbclidShare ? `IwAR${token(r, 24)}` : null;
    const returns = r() < mix.returnShare;
    const buyFirst = r() < mix.purchaseFirst;
    const buyReturn = r() < mix.purchaseReturn;
    const visits = [{ n: 1, dayOffset: 0, gclid, fbclid, purchase: buyFirst ? { orderId: `T-${id}-1`, value: 10 + Math.floor(r() * 90) } : null }];
    if (returns) {
      visits.push({ n: 2, dayOffset: mix.returnDays, gclid: null, fbclid: null, purchase: buyReturn ? { orderId: `T-${id}-2`, value: 10 + Math.floor(r() * 90) } : null });
    }
    visitors.push({ id, blocker, safari, consent, email: `${id}@lab-shop.test`, visits });
  }
  return visitors;
}

/** Is the visitor's consent granted when the page with index `page` (0-based) of a visit fires its events? */
export function consentAt(visitor, page) {
  if (visitor.consent === "granted") return true;
  if (visitor.consent === "refused") return false;
  return page >= 1; // "later": the banner is refused on the landing page and accepted on the next
}

export function summarize(visitors) {
  const count = (f) => visitors.filter(f).length;
  const purchases = visitors.flatMap((v) => v.visits.filter((x) => x.purchase));
  return {
    visitors: visitors.length,
    blocker: count((v) => v.blocker),
    safari: count((v) => v.safari),
    consent: { granted: count((v) => v.consent === "granted"), refused: count((v) => v.consent === "refused"), later: count((v) => v.consent === "later") },
    withGclid: count((v) => v.visits[0].gclid),
    withFbclid: count((v) => v.visits[0].fbclid),
    returning: count((v) => v.visits.length > 1),
    purchases: purchases.length,
  };
}
