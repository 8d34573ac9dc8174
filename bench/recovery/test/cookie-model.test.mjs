import { test } from "node:test";
import assert from "node:assert/strict";
import { travel, lastWriters, parseScriptWrite, parseSetCookies, DAY_MS } from "../lib/cookie-model.mjs";

const NOW = Date.UTC(2026, 0, 10);
const days = (n) => NOW / 1000 + n * 86400;
const cookie = (name, expiresDays, extra = {}) => ({ name, value: "x", domain: ".lab-shop.test", path: "/", expires: expiresDays === null ? -1 : days(expiresDays), httpOnly: false, secure: true, sameSite: "Lax", ...extra });
const names = (r) => r.cookies.map((c) => c.name).sort();

test("every browser: cookies expiring inside the gap and session cookies are gone", () => {
  const r = travel({ cookies: [cookie("_ga", 400), cookie("_gid", 1), cookie("sess", null)], writers: new Map(), now: NOW, gapMs: 8 * DAY_MS, safari: false });
  assert.deepEqual(names(r), ["_ga"]);
  assert.deepEqual(r.dropped.map((d) => d.reason).sort(), ["expired", "session"]);
});

test("Safari: a script-written cookie lives 7 days from its write, an HTTP-set one keeps its expiry", () => {
  const writers = lastWriters([
    { name: "_ga", domain: "lab-shop.test", by: "script", at: NOW },
    { name: "tg_ga", domain: "lab-shop.test", by: "http", at: NOW },
  ]);
  const cookies = [cookie("_ga", 400), cookie("tg_ga", 400, { httpOnly: true })];
  const safari = travel({ cookies, writers, now: NOW, gapMs: 8 * DAY_MS, safari: true });
  assert.deepEqual(names(safari), ["tg_ga"]);
  assert.equal(safari.dropped[0].reason, "safari-script-cap");
  const chrome = travel({ cookies, writers, now: NOW, gapMs: 8 * DAY_MS, safari: false });
  assert.deepEqual(names(chrome), ["_ga", "tg_ga"]);
  // Six days later the script cookie is still there, with its expiry cut to the cap.
  const sixDays = travel({ cookies, writers, now: NOW, gapMs: 6 * DAY_MS, safari: true });
  assert.equal(sixDays.cookies.find((c) => c.name === "_ga").expires, days(7));
});

test("Safari: the last writer decides; an HTTP re-issue after the script's write lifts the cap", () => {
  const cookies = [cookie("_ga", 400)];
  const httpLast = lastWriters([{ name: "_ga", domain: "lab-shop.test", by: "script", at: NOW - 1000 }, { name: "_ga", domain: "lab-shop.test", by: "http", at: NOW - 500 }]);
  assert.deepEqual(names(travel({ cookies, writers: httpLast, now: NOW, gapMs: 8 * DAY_MS, safari: true })), ["_ga"]);
  const scriptLast = lastWriters([{ name: "_ga", domain: "lab-shop.test", by: "http", at: NOW - 500 }, { name: "_ga", domain: "lab-shop.test", by: "script", at: NOW - 100 }]);
  assert.deepEqual(names(travel({ cookies, writers: scriptLast, now: NOW, gapMs: 8 * DAY_MS, safari: true })), []);
});

test("Safari: a visit that landed with a click ID caps script cookies at 24 hours", () => {
  const writers = lastWriters([{ name: "_gcl_aw", domain: "lab-shop.test", by: "script", at: NOW }]);
  const cookies = [cookie("_gcl_aw", 90)];
  assert.deepEqual(names(travel({ cookies, writers, now: NOW, gapMs: 2 * DAY_MS, safari: true, clickIdVisit: true })), []);
  assert.deepEqual(names(travel({ cookies, writers, now: NOW, gapMs: 2 * DAY_MS, safari: true, clickIdVisit: false })), ["_gcl_aw"]);
});

test("the gateway's refresh marker is moved back by the gap; other values are untouched", () => {
  const r = travel({ cookies: [cookie("tg_ts", 400, { value: "1768003200" }), cookie("_ga", 400, { value: "GA1.1.1.1768003200" })], writers: new Map(), now: NOW, gapMs: 8 * DAY_MS, safari: false });
  assert.equal(r.cookies.find((c) => c.name === "tg_ts").value, String(1768003200 - 8 * 86400));
  assert.equal(r.cookies.find((c) => c.name === "_ga").value, "GA1.1.1.1768003200");
});

test("a host-only cookie and a domain cookie of the same name are capped by their own writers", () => {
  // The script wrote a host-only _ga; the gateway set _ga for the registrable domain: Safari keeps the latter.
  const writers = lastWriters([
    { name: "_ga", domain: "www.lab-shop.test", by: "script", at: NOW },
    { name: "_ga", domain: ".lab-shop.test", by: "http", at: NOW - 10 },
  ]);
  const cookies = [cookie("_ga", 400, { domain: "www.lab-shop.test" }), cookie("_ga", 400, { domain: ".lab-shop.test" })];
  const r = travel({ cookies, writers, now: NOW, gapMs: 8 * DAY_MS, safari: true });
  assert.deepEqual(r.cookies.map((c) => c.domain), [".lab-shop.test"]);
});

test("document.cookie assignments and Set-Cookie lines name their cookie and its domain", () => {
  assert.deepEqual(parseScriptWrite("_ga=GA1.1.2.3; Max-Age=63072000; Path=/; Domain=.Lab-Shop.test; SameSite=Lax"), { name: "_ga", domain: "lab-shop.test" });
  assert.deepEqual(parseScriptWrite("_fbp=; Max-Age=0; Path=/"), { name: "_fbp", domain: null });
  assert.equal(parseScriptWrite("garbage"), null);
  assert.deepEqual(parseSetCookies(["_ga=GA1.1.2.3; Max-Age=34560000; Domain=lab-shop.test; Path=/; Secure", "tg_ts=1; HttpOnly"]), [
    { name: "_ga", domain: "lab-shop.test" },
    { name: "tg_ts", domain: null },
  ]);
});
