// Time travel between two visits, and the Safari cookie model. Pure: cookies in (Playwright's shape), cookies out.
//
// The lab cannot wait eight days, so between visits the harness rebuilds the jar as it would be after them:
// - every browser: a cookie whose expiry falls inside the gap is gone, and so are session cookies (the browser
//   was closed); server timestamps kept in cookies (the gateway's refresh marker) are moved back by the gap, so the
//   gateway sees the days pass as a real server would;
// - Safari (ITP): a cookie last written by script (document.cookie) lives at most 7 days from that write, 24 hours
//   when the visit landed with a click ID in the URL (link decoration); a cookie last set by an HTTP response from
//   the site's own host keeps its expiry. Sources: WebKit's ITP 2.1 post (document.cookie capped at 7 days) and
//   ITP 2.2 post (webkit.org/blog/8828: 1 day when a tracker-classified site navigated to a URL with a query
//   string); since 2022 WebKit deletes all script-writable storage after 7 days of use without interaction instead
//   of capping the expiry (simoahava.com, "first-party-cookies-webkit-revisited"), which for a visitor returning
//   after 8 days comes to the same. The Safari 16.4 cap on HTTP cookies from a server on another IP range or a
//   third-party CNAME does not apply: the lab's gateway answers on the site's own host and address.
//   Chromium is the engine in every case: only the cookie rules are Safari's.

export const DAY_MS = 86_400_000;
export const SAFARI_SCRIPT_CAP_MS = 7 * DAY_MS;
export const SAFARI_CLICK_ID_CAP_MS = DAY_MS;

/**
 * Who last wrote each cookie, from the events the harness saw during a visit.
 * events: [{ name, by: "script" | "http", at: ms }], in any order; the latest write of a name wins.
 */
export function lastWriters(events) {
  const writers = new Map();
  for (const e of events) {
    const prev = writers.get(e.name);
    if (!prev || e.at >= prev.at) writers.set(e.name, { by: e.by, at: e.at });
  }
  return writers;
}

/** The cookie names and whether each is being deleted, from a document.cookie assignment ("a=b; Max-Age=0; Path=/"). */
export function parseScriptWrite(assignment) {
  const [pair, ...attrs] = String(assignment).split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return null;
  const name = pair.slice(0, eq).trim();
  let deleted = false;
  for (const a of attrs) {
    const [k, v = ""] = a.split("=");
    const key = k.trim().toLowerCase();
    if (key === "max-age" && Number(v) <= 0) deleted = true;
    if (key === "expires" && Date.parse(v.trim()) <= Date.now()) deleted = true;
  }
  return { name, deleted };
}

/** The cookie names set by a response's Set-Cookie header lines. */
export function parseSetCookieNames(lines) {
  const names = [];
  for (const line of lines) {
    const eq = line.indexOf("=");
    if (eq > 0) names.push(line.slice(0, eq).trim());
  }
  return names;
}

/**
 * The jar after `gapMs` has passed.
 * cookies: Playwright cookies ({ name, value, domain, path, expires (s, -1 = session), httpOnly, secure, sameSite }).
 * writers: lastWriters(...) of the visits so far. now: ms when the gap starts.
 * Returns { cookies, dropped: [{ name, reason }] } with `cookies` ready for context.addCookies.
 */
export function travel({ cookies, writers, now, gapMs, safari, clickIdVisit, serverTimestampCookies = ["tg_ts"] }) {
  const arrival = now + gapMs;
  const kept = [];
  const dropped = [];
  for (const c of cookies) {
    if (c.expires === -1 || c.expires === undefined) {
      dropped.push({ name: c.name, reason: "session" });
      continue;
    }
    let expiresMs = c.expires * 1000;
    const w = writers.get(c.name);
    if (safari && w && w.by === "script") {
      const cap = clickIdVisit ? SAFARI_CLICK_ID_CAP_MS : SAFARI_SCRIPT_CAP_MS;
      expiresMs = Math.min(expiresMs, w.at + cap);
    }
    if (expiresMs <= arrival) {
      dropped.push({ name: c.name, reason: safari && w?.by === "script" && expiresMs < c.expires * 1000 ? "safari-script-cap" : "expired" });
      continue;
    }
    const out = { ...c, expires: Math.floor(expiresMs / 1000) };
    if (serverTimestampCookies.includes(c.name) && /^[0-9]+$/.test(c.value)) {
      out.value = String(Number(c.value) - Math.floor(gapMs / 1000));
    }
    kept.push(out);
  }
  return { cookies: kept, dropped };
}
