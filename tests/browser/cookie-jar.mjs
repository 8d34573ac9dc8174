// Loads a page in headless Chromium (Debian's, via playwright-core: no browser download), waits until the page
// reports its tag finished, and prints the browser's own cookie jar as JSON on stdout.
//
//   node cookie-jar.mjs --url http://shop.example.co.uk:8080/metrics/page.html \
//        --map shop.example.co.uk=127.0.0.1 [--cookie "name=value"]... [--wait-for window.tagDone] [--visits 2]
//
// --map uses Chromium's host resolver rules, so a page can live on a real-looking registrable domain on loopback.
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const all = (name) => args.flatMap((a, i) => (a === `--${name}` ? [args[i + 1]] : []));

const url = option("url");
const waitFor = option("wait-for", "window.tagDone === true");
const visits = Number(option("visits", "1"));
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!url) {
  console.error("usage: cookie-jar.mjs --url URL [--map host=ip] [--cookie name=value] [--wait-for expr] [--visits n]");
  process.exit(2);
}

const rules = all("map").map((m) => {
  const [host, ip] = m.split("=");
  return `MAP ${host} ${ip}`;
});

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    ...(rules.length ? [`--host-resolver-rules=${rules.join(",")}`] : []),
  ],
});

try {
  const context = await browser.newContext();
  const seed = all("cookie").map((pair) => {
    const eq = pair.indexOf("=");
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), url };
  });
  if (seed.length) await context.addCookies(seed);

  const page = await context.newPage();
  for (let i = 0; i < visits; i++) {
    const response = await page.goto(url, { waitUntil: "load", timeout: 15000 });
    if (!response || response.status() !== 200) throw new Error(`page answered ${response?.status()}`);
    await page.waitForFunction(waitFor, null, { timeout: 15000 });
  }

  const cookies = await context.cookies();
  process.stdout.write(JSON.stringify({ now: Date.now() / 1000, cookies }) + "\n");
} finally {
  await browser.close();
}
