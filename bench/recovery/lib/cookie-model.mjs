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
 * A cookie is its name and its domain: a host-only "_ga" and a "_ga" for the registrable domain are two cookies, and
 * Safari caps each by its own last writer. `domain` is the Domain attribute (leading dot ignored) or, host-only, the host.
 */
export const cookieKey = (name, domain) => `${name}@${String(domain).replace(/^\./, "").toLowerCase()}`;

/**
 * Who last wrote each cookie, from the events the harness saw during a visit.
 * events: [{ name, domain, by: "script" | "http", at: ms }], in any order; the latest write of a cookie wins.
 */
export function lastWriters(events) {
  const writers = new Map();
  for (const e of events) {
    const key = cookieKey(e.name, e.domain);
    const prev = writers.get(key);
    if (!prev || e.at >= prev.at) writers.set(key, { by: e.by, at: e.at });
  }
  return writers;
}

/** The cookie a document.cookie assignment writes ("a=b; Max-Age=0; Domain=x; Path=/"): name, Domain (null: host-only). */
export function parseScriptWrite(assignment) {
  return parseCookieLine(String(assignment));
}

/** The cookies a response's Set-Cookie lines set: [{ name, domain }] (domain null: host-only). */
export function parseSetCookies(lines) {
  return lines.map(parseCookieLine).filter(Boolean);
}

function parseCookieLine(line) {
  const [pair, ...attrs] = line.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return null;
  let domain = null;
  for (const a of attrs) {
    const i = a.indexOf("=");
    if (i > 0 && a.slice(0, i).trim().toLowerCase() === "domain") domain = a.slice(i + 1).trim().replace(/^\./, "").toLowerCase() || null;
  }
  return { name: pair.slice(0, eq).trim(), domain };
}

/**
 * The jar after `gapMs` has passed.
 * cookies: Playwright cookies ({ name, value, domain, path, expires (s, -1 = session), httpOnly, secure, sameSite }).
 * writers: lastWriters(...) of the visit before the gap. now: ms when the gap starts.
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
    const w = writers.get(cookieKey(c.name, c.domain));
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
