// Opens the gateway's live view (/ui/ on the management listener) in headless Chromium, sends hits to the public
// listener from here, waits until the page shows them, then reads the setup check and the report the way a person
// would see them. Writes a screenshot of each page and prints what it read as JSON on stdout.
//
//   node live-view.mjs --ui http://127.0.0.1:9090/ui/ --hit http://127.0.0.1:8080/metrics/g/collect?... \
//        [--header "X-Forwarded-Proto: https"]... [--capi URL --capi-key KEY --capi-body JSON] --out DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const all = (name) => args.flatMap((a, i) => (a === `--${name}` ? [args[i + 1]] : []));

const ui = option("ui");
const out = option("out");
const hits = all("hit");
const capi = option("capi");
const capiKey = option("capi-key");
const capiBody = option("capi-body");
const headers = Object.fromEntries(all("header").map((h) => [h.slice(0, h.indexOf(":")).trim(), h.slice(h.indexOf(":") + 1).trim()]));
if (!ui || !out || hits.length === 0) {
  console.error("usage: live-view.mjs --ui URL --hit URL [--hit URL]... [--header 'Name: value']... --out DIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

// Distinct colours in a sample of the screenshot's pixels, counted by the browser itself: a blank page has one.
async function colours(page, png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = "data:image/png;base64," + b64;
    await img.decode();
    const canvas = new OffscreenCanvas(img.width, img.height);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, img.width, img.height).data;
    const seen = new Set();
    for (let i = 0; i < data.length; i += 4 * 7) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    return { width: img.width, height: img.height, colours: seen.size };
  }, png.toString("base64"));
}

try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const response = await page.goto(ui, { waitUntil: "load", timeout: 15000 });
  if (!response || response.status() !== 200) throw new Error(`ui answered ${response?.status()}`);
  await page.waitForSelector("#hits tbody", { state: "attached", timeout: 15000 });

  const sent = [];
  for (const url of hits) {
    const r = await fetch(url, { method: "POST", headers, body: "en=page_view" });
    sent.push({ status: r.status, setCookies: r.headers.getSetCookie().map((c) => c.slice(0, c.indexOf("="))) });
  }

  await page.waitForFunction((n) => document.querySelectorAll('#hits tbody tr[data-route="ga4"]').length >= n, hits.length, { timeout: 15000 });

  // A server-to-server batch on the public listener: it shows as a "capi" row with each event's fate.
  let capiStatus = null;
  if (capi) {
    const r = await fetch(capi, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${capiKey}` }, body: capiBody });
    capiStatus = r.status;
    await page.waitForSelector('#hits tbody tr[data-route="capi"]', { timeout: 15000 });
  }
  const rows = await page.$$eval("#hits tbody tr", (trs) => trs.map((tr) => ({ route: tr.dataset.route, text: tr.innerText })));
  const shots = {};
  const shoot = async (name) => {
    const path = join(out, `${name}.png`);
    const png = await page.screenshot({ path, fullPage: true });
    shots[name] = { path, bytes: png.length, ...(await colours(page, png)) };
  };
  await shoot("live");

  await page.click('nav a[data-tab="setup"]');
  await page.waitForSelector('#setup-lines li[data-id="geolocation"]', { timeout: 15000 });
  const setup = await page.$$eval("#setup-lines li", (lis) => lis.map((li) => ({ id: li.dataset.id, level: li.dataset.level, text: li.innerText })));
  await shoot("setup");

  await page.click('nav a[data-tab="report"]');
  await page.waitForSelector("#report-body .card", { timeout: 15000 });
  if (capi) {
    // Delivery is asynchronous: wait until the report shows it before reading the numbers.
    await page.waitForFunction(() => [...document.querySelectorAll("#report-body td.num[data-check^='taggateway_capi_events_delivered_total']")].some((td) => Number(td.textContent) > 0), null, { timeout: 20000 });
  }
  const report = await page.$$eval("#report-body td.value", (tds) => tds.map((td) => ({ metric: td.dataset.metric, labels: td.dataset.labels, value: Number(td.textContent) })));
  const checks = await page.$$eval("#report-body td.num[data-check]", (tds) => tds.filter((td) => td.dataset.check).map((td) => ({ check: td.dataset.check, value: Number(td.textContent) })));
  const charts = await page.$$eval("#report-body svg rect", (rects) => rects.length);
  const sections = await page.$$eval("#report-body .card h3", (hs) => hs.map((h) => h.textContent));
  await shoot("report");

  // The printable page: the same report drawn once, for print or PDF.
  const printable = await page.goto(new URL("/ui/report.html", ui).toString(), { waitUntil: "load", timeout: 15000 });
  if (!printable || printable.status() !== 200) throw new Error(`report.html answered ${printable?.status()}`);
  await page.waitForSelector("body[data-ready='true']", { timeout: 15000 });
  const printableSections = await page.$$eval("#report-body .card h3", (hs) => hs.length);
  await shoot("printable");

  process.stdout.write(JSON.stringify({ sent, capiStatus, rows, setup, report, checks, charts, sections, printableSections, shots }) + "\n");
} finally {
  await browser.close();
}
