// The recovery benchmark's driver (bash bench/recovery/run.sh runs it; README.md explains the figures).
//
//   node harness.mjs --gateway-bin PATH --work DIR [--quick] [--visitors N] [--seed S] [--blocker-share X]
//        [--safari-share X] [--concurrency N] [--region CC-RR] [--banner-timing before|after] [--results DIR]
//        [--command TEXT] [--ga4-gap-fill yes|no] [--ga4-window SECONDS]
import { chromium } from "playwright-core";
import { FiltersEngine } from "@ghostery/adblocker";
import { readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { makePopulation, summarize, DEFAULT_MIX } from "./lib/population.mjs";
import { figures } from "./lib/counting.mjs";
import { gapFillFigures, gapFillChecks, gapFillMetrics } from "./lib/gap-fill.mjs";
import { chartOf, printSummary } from "./lib/report.mjs";
import { startLab, SHOP_HOST } from "./lab/server.mjs";
import { startNginx, startGateway, makeCertificate, freePort, THIRD_PARTY_HOSTS } from "./lab/infra.mjs";
import { runVisitor, capiBackend } from "./lab/visitor.mjs";
import { GA4_ID, ADS_ID, META_PIXEL } from "./lab/shop.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const quick = args.includes("--quick");
const options = {
  visitors: Number(opt("visitors", quick ? 10 : 100)),
  seed: Number(opt("seed", 19)),
  concurrency: Number(opt("concurrency", 3)),
  region: opt("region", "DE-BE"),
  bannerTiming: opt("banner-timing", "before"),
  work: opt("work"),
  gatewayBin: opt("gateway-bin"),
  results: opt("results"),
  command: opt("command", `node harness.mjs ${args.join(" ")}`),
  gatewaySource: opt("gateway-source", "unknown"),
  ga4GapFill: opt("ga4-gap-fill", "no") === "yes",
  // The gap-fill window the run's gateway waits for a browser twin (production default 2 min); the run waits it out.
  ga4WindowSeconds: Number(opt("ga4-window", 10)),
};
const mix = { ...DEFAULT_MIX, blockerShare: Number(opt("blocker-share", DEFAULT_MIX.blockerShare)), safariShare: Number(opt("safari-share", DEFAULT_MIX.safariShare)) };
if (!(options.ga4WindowSeconds >= 5 && options.ga4WindowSeconds <= 59)) {
  // At least the CAPI merge window (5 s, the gap-fill window includes it); under a minute keeps the run short.
  console.error("--ga4-window must be 5 to 59 seconds");
  process.exit(2);
}
if (!options.work || !options.gatewayBin) {
  console.error("usage: node harness.mjs --gateway-bin PATH --work DIR [--quick] [options] (bash run.sh --help)");
  process.exit(2);
}

const MEASUREMENT_PATH = "/metrics";
const LISTS_DIR = "/usr/share/chromium/extensions/ublock-origin/assets/thirdparties/easylist";
const LISTS = ["easylist.txt", "easyprivacy.txt"];
const DESTS = [
  { key: "ga4", label: "GA4" },
  { key: "ads", label: "Google Ads" },
  { key: "meta", label: "Meta" },
];
const SCENARIOS = [
  { key: "pixel", label: "Pixel only (Google's and Meta's hosts)" },
  { key: "gateway", label: "Through the gateway (first-party + CAPI)" },
];

const started = Date.now();
const stops = [];
const stopAll = async () => {
  while (stops.length) await stops.pop()().catch(() => {});
};
process.on("SIGINT", () => stopAll().then(() => process.exit(130)));
process.on("SIGTERM", () => stopAll().then(() => process.exit(143)));

const pkgVersion = (name) => {
  try {
    return execFileSync("dpkg-query", ["-W", "-f=${Version}", name], { encoding: "utf8" });
  } catch {
    return "not installed";
  }
};
const npmVersion = (name) => JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, import.meta.url), "utf8")).version;

async function main() {
  mkdirSync(options.work, { recursive: true });
  const visitors = makePopulation({ count: options.visitors, seed: options.seed, mix });

  // The real rule lists, as Debian ships them with uBlock Origin; Ghostery's engine applies them (network rules:
  // cosmetic rules hide elements and cannot stop a request).
  const lists = LISTS.map((f) => {
    const text = readFileSync(join(LISTS_DIR, f), "utf8");
    return { file: join(LISTS_DIR, f), text, sha256: createHash("sha256").update(text).digest("hex"), modified: statSync(join(LISTS_DIR, f)).mtime.toISOString().slice(0, 10), rules: text.split("\n").filter((l) => l && !l.startsWith("!") && !l.startsWith("[")).length };
  });
  const engine = FiltersEngine.parse(lists.map((l) => l.text).join("\n"), { loadCosmeticFilters: false, loadNetworkFilters: true });

  const lab = await startLab({ measurementPath: MEASUREMENT_PATH });
  stops.push(lab.close);
  const gatewayPort = await freePort();
  const managementPort = await freePort();
  const apiKey = randomBytes(18).toString("hex");
  const gw = await startGateway({
    gatewayBin: options.gatewayBin,
    work: options.work,
    labPort: lab.port,
    gatewayPort,
    managementPort,
    measurementPath: MEASUREMENT_PATH,
    tagIds: [GA4_ID, ADS_ID],
    capi: { apiKey, metaPixel: META_PIXEL, ga4Id: GA4_ID, ga4WindowSeconds: options.ga4WindowSeconds },
    ga4GapFill: options.ga4GapFill,
  });
  stops.push(gw.stop);
  const cert = makeCertificate(options.work, [SHOP_HOST, ...THIRD_PARTY_HOSTS]);
  const nginx = await startNginx({ work: options.work, shopHost: SHOP_HOST, labPort: lab.port, gatewayPort, measurementPath: MEASUREMENT_PATH, region: options.region, cert });
  stops.push(nginx.stop);

  const rules = [SHOP_HOST, ...THIRD_PARTY_HOSTS].map((h) => `MAP ${h} 127.0.0.1:${nginx.port}`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--host-resolver-rules=${rules.join(",")}, EXCLUDE localhost`],
  });
  stops.push(() => browser.close());
  const userAgent = await (async () => {
    const c = await browser.newContext();
    const p = await c.newPage();
    const ua = await p.evaluate("navigator.userAgent");
    await c.close();
    return ua;
  })();

  const shopOrigin = `https://${SHOP_HOST}`;
  const results = {};
  for (const scenario of SCENARIOS) {
    lab.setMode(scenario.key);
    const stats = { blocked: {}, dropped: {}, backend: {}, unsettled: 0, errors: [] };
    const backend = scenario.key === "gateway" ? capiBackend({ gatewayUrl: `http://127.0.0.1:${gatewayPort}`, apiKey, region: options.region, userAgent, stats }) : null;
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < visitors.length) {
        const v = visitors[next++];
        try {
          await runVisitor({ browser, visitor: v, shopOrigin, engine, backend, stats, bannerTiming: options.bannerTiming });
        } catch (err) {
          stats.errors.push(`${v.id}: ${err.message.split("\n")[0]}`);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    let gatewayMetrics = null;
    if (scenario.key === "gateway") {
      await drainCapi(managementPort, options.ga4GapFill ? options.ga4WindowSeconds : 0);
      gatewayMetrics = await fetch(`http://127.0.0.1:${managementPort}/metrics`).then((r) => r.text()).catch(() => null);
    } else await new Promise((r) => setTimeout(r, 500));
    const { records, unmatched } = lab.takeRecords();
    // Every event as recorded, for inspection (run.sh --keep keeps the scratch folder).
    writeFileSync(join(options.work, `records-${scenario.key}.json`), JSON.stringify(records, null, 1));
    const unattributed = records.filter((r) => !r.visitor).length;
    results[scenario.key] = {
      label: scenario.label,
      seconds: Math.round((Date.now() - t0) / 1000),
      figures: figures(records, visitors, DESTS.map((d) => d.key)),
      received: countBy(records, (r) => `${r.dest} ${r.channel} ${r.via} ${r.event}`),
      unattributed,
      unmatched: countBy(unmatched, (u) => u),
      blockedRequests: stats.blocked,
      cookiesDroppedBetweenVisits: stats.dropped,
      backendAnswers: stats.backend,
      visitsNotSettled: stats.unsettled,
      errors: stats.errors,
    };
    // GA4 per purchase: what reached the fake GA by the browser and by the Measurement Protocol (lib/gap-fill.mjs).
    const ga4 = gapFillFigures(records, visitors);
    results[scenario.key].ga4Purchases = ga4;
    if (scenario.key === "gateway" && options.ga4GapFill) {
      results[scenario.key].ga4GapFill = { windowSeconds: options.ga4WindowSeconds, checks: gapFillChecks(ga4, { invalidMpRequests: unmatched.filter((u) => u.startsWith("invalid Measurement Protocol")).length }), gatewayMetrics: gatewayMetrics === null ? null : gapFillMetrics(gatewayMetrics) };
    }
    console.log(`${scenario.key}: ${results[scenario.key].seconds} s, ${records.length} events recorded, ${stats.errors.length} errors`);
  }

  const capiStore = await fetch(`http://127.0.0.1:${managementPort}/capi/store`).then((r) => r.json()).catch(() => null);
  await stopAll();

  const output = {
    issue: 19,
    date: new Date().toISOString(),
    command: options.command,
    runSeconds: Math.round((Date.now() - started) / 1000),
    gateway: options.gatewaySource,
    population: { seed: options.seed, mix, ...summarize(visitors) },
    browser: { engine: `Chromium ${browser.version()}`, package: `chromium ${pkgVersion("chromium")}`, driver: `playwright-core ${npmVersion("playwright-core")}`, safari: "Chromium under the Safari cookie model (lib/cookie-model.mjs); no WebKit build runs here" },
    blocker: { engine: `@ghostery/adblocker ${npmVersion("@ghostery/adblocker")} (network rules)`, lists: lists.map(({ file, sha256, modified, rules }) => ({ file, sha256, modified, rules })), package: `webext-ublock-origin-chromium ${pkgVersion("webext-ublock-origin-chromium")}` },
    region: options.region,
    bannerTiming: options.bannerTiming,
    ga4GapFill: options.ga4GapFill ? `configured (Capi:GoogleAnalytics, GapFillWindow ${options.ga4WindowSeconds} s in this run)` : "not available: this gateway has no GA4 conversion destination yet (issue #13)",
    destinations: DESTS,
    scenarios: results,
    capiStoreAfter: capiStore,
  };
  if (options.results) {
    mkdirSync(options.results, { recursive: true });
    writeFileSync(join(options.results, "recovery.json"), JSON.stringify(output, null, 2) + "\n");
    writeFileSync(join(options.results, "recovery.svg"), chartOf(output));
    console.log(`wrote ${join(options.results, "recovery.json")} and recovery.svg`);
  }
  printSummary(output);
  const failed = Object.values(results).some((r) => r.errors.length > 0);
  // The gap-fill's done criterion (issue #13) fails the run, as errors do.
  const checksFailed = (results.gateway?.ga4GapFill?.checks ?? []).some((c) => !c.ok);
  return failed || checksFailed ? 1 : 0;
}

function countBy(items, key) {
  const out = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
}

/**
 * Waits until the gateway's CAPI store has nothing pending (the merge window, then delivery), at most 60 s after the
 * GA4 gap-fill window (which the last backend report's GA copy waits out before it is sent or cancelled).
 */
async function drainCapi(managementPort, gapFillWindowSeconds) {
  await new Promise((r) => setTimeout(r, gapFillWindowSeconds * 1000));
  const until = Date.now() + 60_000;
  let quiet = 0;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    const s = await fetch(`http://127.0.0.1:${managementPort}/capi/store`).then((r) => r.json()).catch(() => null);
    const pending = s ? Object.values(s.pending ?? {}).reduce((a, b) => a + b, 0) : 1;
    quiet = pending === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return;
  }
  console.warn("the CAPI store still had pending events after 60 s");
}

main()
  .then((code) => process.exit(code))
  .catch(async (err) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  });
