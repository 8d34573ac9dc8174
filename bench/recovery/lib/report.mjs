// The chart and the console summary, from the results object harness.mjs writes (so render.mjs can redo the chart
// from a committed recovery.json without a run).
import { renderChart } from "./chart.mjs";

export function chartOf(o) {
  const panel = (title, get) => ({ title, values: Object.fromEntries(o.destinations.map((d) => [d.key, Object.fromEntries(Object.entries(o.scenarios).map(([k, s]) => [k, get(s.figures[d.key])]))])) });
  const refused = Object.values(o.scenarios).reduce((n, s) => n + Object.values(s.figures).reduce((m, f) => m + f.refused.identified, 0), 0);
  return renderChart({
    title: "Signal recovery: pixel only vs. through the gateway",
    caption: `${o.population.visitors} visitors (seed ${o.population.seed}): ${Math.round(o.population.mix.blockerShare * 100)}% EasyList+EasyPrivacy, ${Math.round(o.population.mix.safariShare * 100)}% Safari cookie model; ${o.browser.engine}; ${o.date.slice(0, 10)}`,
    dests: o.destinations,
    scenarios: Object.entries(o.scenarios).map(([key, s]) => ({ key, label: s.label })),
    panels: [
      panel("Consented purchases delivered", (f) => f.purchases.rate),
      panel("Identity kept after 8 days", (f) => f.continuity.rate),
      panel("… under the Safari cookie model", (f) => f.continuitySafari.rate),
    ],
    footnotes: [
      `Identified data sent for visitors who refused: ${refused}. GA4 gap-fill (CAPI to GA4): ${gapFillNote(o)}.`,
      `Region ${o.region}; consent banner answered ${o.bannerTiming ?? "before"} the tags fire; blocker: ${o.blocker.engine.split(" (")[0]} with Debian's EasyList + EasyPrivacy.`,
    ],
  });
}

function gapFillNote(o) {
  if (o.ga4GapFill.startsWith("not available")) return "not available yet (issue #13)";
  const f = o.scenarios.gateway?.ga4Purchases;
  if (!f) return "on";
  return `on; GA4 got ${f.reachedViaBrowser} purchases by browser + ${f.reachedViaMp} by Measurement Protocol of ${f.consented} consented, ${f.reachedTwice} twice`;
}

export function printSummary(o) {
  const p = (x) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
  console.log(`\n${o.population.visitors} visitors, seed ${o.population.seed}, ${o.population.purchases} purchases; run ${o.runSeconds} s`);
  console.log("scenario  dest   purchases        identity  identity(Safari)  counted-twice  refused:identified/anonymous");
  for (const [k, s] of Object.entries(o.scenarios)) {
    for (const d of o.destinations) {
      const f = s.figures[d.key];
      console.log(`${k.padEnd(9)} ${d.key.padEnd(6)} ${`${f.purchases.delivered}/${f.purchases.consented} ${p(f.purchases.rate)}`.padEnd(16)} ${p(f.continuity.rate).padEnd(9)} ${p(f.continuitySafari.rate).padEnd(17)} ${String(f.purchases.countedTwice).padEnd(14)} ${f.refused.identified}/${f.refused.anonymous}`);
    }
  }
  const g = o.scenarios.gateway?.ga4GapFill;
  if (g) {
    const f = o.scenarios.gateway.ga4Purchases;
    const m = g.gatewayMetrics;
    console.log(`\nGA4 gap-fill (window ${g.windowSeconds} s): ${f.purchases} purchases, ${f.consented} consented (${f.consentedBlocked} with the blocker); reached GA by browser ${f.reachedViaBrowser}, by MP ${f.reachedViaMp}, twice ${f.reachedTwice}, missing ${f.missing}; refused ${f.refused}: by MP ${f.refusedViaMp}, identified ${f.refusedIdentified}, cookieless pings ${f.refusedCookieless}`);
    if (m) console.log(`gateway /metrics: sent ${m.sent}, cancelled by the browser twin ${m.cancelledByBrowser}, late twins ${m.lateBrowserTwin}, stale ${m.droppedStale}; GA dropped ${JSON.stringify(m.droppedByReason)}`);
    for (const c of g.checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.value}`);
  }
}
