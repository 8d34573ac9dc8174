// One visitor's visits in Chromium: fresh context per visit, the jar carried over through the cookie model, the
// content blocker on the context's requests when the visitor has one, and (through the gateway) the shop's
// backend reporting each purchase to POST /capi/v1/events.
import { createHash } from "node:crypto";
import { Request } from "@ghostery/adblocker";
import { consentAt } from "../lib/population.mjs";
import { travel, lastWriters, parseScriptWrite, parseSetCookies, DAY_MS } from "../lib/cookie-model.mjs";

const HOOK = `(() => {
  // Report every document.cookie write to the harness (the Safari model needs to know who wrote what, and when).
  const d = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true,
    get() { return d.get.call(this); },
    set(v) { try { window.__labCookieWrite(String(v), Date.now()); } catch {} d.set.call(this, v); },
  });
})();`;

/** Waits until the context has had no request in flight for `quietMs` (beacons included), at most `maxMs`. */
function tracker(context) {
  let inflight = 0;
  let last = Date.now();
  const done = () => {
    inflight = Math.max(0, inflight - 1);
    last = Date.now();
  };
  context.on("request", () => {
    inflight++;
    last = Date.now();
  });
  context.on("requestfinished", done);
  context.on("requestfailed", done);
  return async (quietMs = 250, maxMs = 8000) => {
    const until = Date.now() + maxMs;
    while (Date.now() < until) {
      if (inflight === 0 && Date.now() - last >= quietMs) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };
}

const cookieValue = (jar, name) => jar.find((c) => c.name === name)?.value ?? null;

export async function runVisitor({ browser, visitor, shopOrigin, engine, backend, stats, bannerTiming = "before" }) {
  const writes = [];
  const shopHost = new URL(shopOrigin).hostname;
  let jar = [];
  let previousVisit = null;
  for (const visit of visitor.visits) {
    if (previousVisit) {
      const gapMs = (visit.dayOffset - previousVisit.dayOffset) * DAY_MS;
      const moved = travel({ cookies: jar, writers: lastWriters(writes), now: Date.now(), gapMs, safari: visitor.safari, clickIdVisit: Boolean(previousVisit.gclid || previousVisit.fbclid) });
      jar = moved.cookies;
      for (const d of moved.dropped) stats.dropped[d.reason] = (stats.dropped[d.reason] ?? 0) + 1;
      // Script writes from before the gap no longer matter: the survivors' caps were applied above.
      writes.length = 0;
    }
    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: "de-DE" });
    try {
      if (jar.length) await context.addCookies(jar);
      await context.exposeBinding("__labCookieWrite", (_source, assignment, at) => {
        const w = parseScriptWrite(assignment);
        if (w) writes.push({ name: w.name, domain: w.domain ?? shopHost, by: "script", at });
      });
      await context.addInitScript(HOOK);
      context.on("response", async (response) => {
        if (!response.url().startsWith(shopOrigin)) return;
        const at = Date.now();
        const lines = (await response.headersArray().catch(() => [])).filter((h) => h.name.toLowerCase() === "set-cookie").flatMap((h) => h.value.split("\n"));
        for (const c of parseSetCookies(lines)) writes.push({ name: c.name, domain: c.domain ?? shopHost, by: "http", at });
      });
      if (visitor.blocker) {
        await context.route("**/*", (route) => {
          const req = route.request();
          const frame = req.frame();
          const { match } = engine.match(Request.fromRawDetails({ url: req.url(), sourceUrl: frame?.url() || shopOrigin, type: req.resourceType() }));
          if (match) {
            const u = new URL(req.url());
            const where = u.host + u.pathname;
            stats.blocked[where] = (stats.blocked[where] ?? 0) + 1;
            return route.abort("blockedbyclient");
          }
          return route.continue();
        });
      }
      const settle = tracker(context);
      const page = await context.newPage();
      const tag = `lab=${visitor.id}.${visit.n}`;
      const landing = new URL(`${shopOrigin}/?${tag}`);
      if (visit.gclid) landing.searchParams.set("gclid", visit.gclid);
      if (visit.fbclid) landing.searchParams.set("fbclid", visit.fbclid);
      const urls = [landing.href, `${shopOrigin}/product?${tag}`];
      if (visit.purchase) urls.push(`${shopOrigin}/thanks?${tag}&order=${visit.purchase.orderId}&value=${visit.purchase.value}`);
      for (let i = 0; i < urls.length; i++) {
        const response = await page.goto(urls[i], { waitUntil: "load", timeout: 20_000 });
        if (response?.status() !== 200) throw new Error(`${urls[i]} answered ${response?.status()}`);
        await page.waitForFunction("window.labSettled === 2", null, { timeout: 20_000 });
        // The banner shows while no choice is stored (Safari drops the CMP's script-written cookie after 7 days). The
        // visitor answers it, and a visitor who refused may accept on a later page; nobody withdraws a stored grant.
        // bannerTiming "before": the site holds its tags until the answer (wait_for_update, or a page view triggered
        // by the CMP); "after": the tags fire on load under the default (denied) state and the answer follows.
        const want = consentAt(visitor, i) ? "granted" : "denied";
        const stored = await page.evaluate("window.labConsentStored()");
        const answer = stored === null || (stored === "denied" && want === "granted") ? want : null;
        if (answer && bannerTiming === "before") await page.evaluate((c) => window.labConsent(c), answer);
        await page.evaluate("window.labFire()");
        if (answer && bannerTiming === "after") await page.evaluate((c) => window.labConsent(c), answer);
        if (!(await settle())) stats.unsettled++;
      }
      jar = await context.cookies();
      if (visit.purchase && backend) {
        await backend.report({ visitor, visit, jar, url: urls[urls.length - 1], consented: consentAt(visitor, urls.length - 1) });
      }
      previousVisit = visit;
    } finally {
      await context.close();
    }
  }
}

/**
 * The client id a backend keeps on its customer record for a browser that never ran gtag (the tag blocked, so no
 * `_ga`): the Measurement Protocol requires a client_id, and without one the gateway drops the event for Google
 * Analytics (counted as no_client_id). Stable per customer, in gtag's "<random>.<seconds>" shape.
 */
export function backendClientId(email) {
  const h = createHash("sha256").update(`ga-client:${email}`).digest();
  return `${h.readUInt32BE(0) % 2147483647}.${1700000000 + (h.readUInt32BE(4) % 50000000)}`;
}

/** The shop's backend: reports each order to the gateway's POST /capi/v1/events, with what a backend knows. */
export function capiBackend({ gatewayUrl, apiKey, region, userAgent, stats }) {
  return {
    async report({ visitor, visit, jar, url, consented }) {
      const ga = cookieValue(jar, "_ga");
      const gclAw = cookieValue(jar, "_gcl_aw");
      const state = consented ? "granted" : "denied";
      const event = {
        event_name: "purchase",
        event_id: visit.purchase.orderId,
        transaction_id: visit.purchase.orderId,
        event_time: Math.floor(Date.now() / 1000),
        action_source: "website",
        currency: "EUR",
        value: visit.purchase.value,
        page_url: url,
        client_id: ga ? ga.split(".").slice(2).join(".") : backendClientId(visitor.email),
        user: {
          email: visitor.email,
          fbp: cookieValue(jar, "_fbp"),
          fbc: cookieValue(jar, "_fbc"),
          gclid: visit.gclid ?? (gclAw ? gclAw.split(".").slice(2).join(".") : null),
          ip: "127.0.0.1",
          user_agent: userAgent,
        },
        consent: { ad_storage: state, analytics_storage: state, ad_user_data: state, ad_personalization: state },
        region,
      };
      const response = await fetch(`${gatewayUrl}/capi/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ events: [event] }),
      });
      const text = await response.text();
      if (response.status !== 202) throw new Error(`POST /capi/v1/events answered ${response.status}: ${text}`);
      const outcome = JSON.parse(text).events?.[0]?.status ?? "unknown";
      stats.backend[outcome] = (stats.backend[outcome] ?? 0) + 1;
    },
  };
}
