// A stand-in for Google's gtag.js, for the recovery lab only. It behaves like the real tag where the benchmark
// depends on it, and nowhere else:
// - it reads the dataLayer (consent default/update, config, event) and keeps reading pushes made after it loaded;
// - Consent Mode v2 "advanced": with analytics_storage / ad_storage denied it writes and reads no cookie and sends
//   cookieless pings (gcs/gcd, no cid, no click ID); once granted it writes _ga and _gcl_aw from script
//   (document.cookie, two years / 90 days), as gtag does, and re-writes _ga on every page load;
// - it sends hits with navigator.sendBeacon, to the host it was loaded from: from www.googletagmanager.com to
//   region1.google-analytics.com (GA4) and www.google.com / www.googleadservices.com (Ads); from a first-party
//   path (the gateway) to that same path, as a tag served through Google tag gateway does;
// - GA4: /g/collect?v=2&tid&cid&en&dl&gcs&gcd&ep.transaction_id&epn.value&cu; Ads: /ccm/collect page pings and
//   /pagead/conversion/<AW-…>/ conversions with oid (order id) and gclaw (the stored gclid).
(function () {
  "use strict";
  var script = document.currentScript;
  var src = new URL(script.src);
  var firstParty = src.hostname !== "www.googletagmanager.com";
  var base = firstParty ? src.origin + src.pathname.replace(/\/gtag\/js$/, "") : null;
  var gaEndpoint = firstParty ? base + "/g/collect" : "https://region1.google-analytics.com/g/collect";
  var adsPing = firstParty ? base + "/ccm/collect" : "https://www.google.com/ccm/collect";
  var adsConversion = firstParty ? base + "/pagead/conversion/" : "https://www.googleadservices.com/pagead/conversion/";

  var consent = { def: {}, upd: {} };
  var tags = [];
  var sent = 0;

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name.replace(/[.$]/g, "\\$&") + "=([^;]*)"));
    return m ? m[1] : null;
  }
  // cookie_domain "auto", as gtag does it: the highest domain the browser accepts (the registrable domain).
  var cookieDomain = null;
  function setCookie(name, value, seconds) {
    var attrs = "; Max-Age=" + seconds + "; Path=/; SameSite=Lax; Secure";
    if (cookieDomain === null) {
      var labels = location.hostname.split(".");
      for (var i = labels.length - 2; i >= 0; i--) {
        var d = labels.slice(i).join(".");
        document.cookie = name + "=" + value + attrs + "; Domain=" + d;
        if (cookie(name) === value) { cookieDomain = d; return; }
      }
      cookieDomain = "";
    }
    document.cookie = name + "=" + value + attrs + (cookieDomain ? "; Domain=" + cookieDomain : "");
  }
  function state(type) {
    return consent.upd[type] || consent.def[type] || null;
  }
  function granted(type) {
    return state(type) === "granted";
  }
  // gcd letter per type: alphabet[16 + 4*default + update], 1 not set, 2 denied, 3 granted (ga4-hits-and-consent.md §3.2).
  var ALPHA = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  function code(v) { return v === "granted" ? 3 : v === "denied" ? 2 : 1; }
  function letter(type) { return ALPHA[16 + 4 * code(consent.def[type]) + code(consent.upd[type])]; }
  function gcs() { return "G1" + (granted("ad_storage") ? "1" : "0") + (granted("analytics_storage") ? "1" : "0"); }
  function gcd() { return "13" + letter("ad_storage") + "3" + letter("analytics_storage") + "3" + letter("ad_user_data") + "3" + letter("ad_personalization") + "5"; }

  function clientId() {
    if (!granted("analytics_storage")) return null;
    var ga = cookie("_ga");
    var cid = ga && /^GA1\.\d\.(\d+\.\d+)$/.test(ga) ? ga.replace(/^GA1\.\d\./, "") : null;
    if (!cid) cid = Math.floor(Math.random() * 2147483647) + "." + Math.floor(Date.now() / 1000);
    setCookie("_ga", "GA1.1." + cid, 63072000); // re-written on every load, as gtag does
    return cid;
  }
  function gclid() {
    var fromUrl = new URL(location.href).searchParams.get("gclid");
    if (!granted("ad_storage")) return null;
    if (fromUrl) {
      setCookie("_gcl_aw", "GCL." + Math.floor(Date.now() / 1000) + "." + fromUrl, 7776000);
      return fromUrl;
    }
    var aw = cookie("_gcl_aw");
    return aw ? aw.split(".").slice(2).join(".") : null;
  }
  function beacon(url) {
    sent++;
    navigator.sendBeacon(url);
  }
  function q(params) {
    var parts = [];
    for (var k in params) if (params[k] !== null && params[k] !== undefined) parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
    return parts.join("&");
  }

  function event(name, params) {
    params = params || {};
    var cid = clientId();
    var click = gclid();
    // send_to names the tags an event goes to (gtag's default: every configured tag).
    var targets = params.send_to ? String(params.send_to).split(",").map(function (t) { return t.split("/")[0]; }) : tags;
    tags.forEach(function (id) {
      if (targets.indexOf(id) < 0) return;
      if (id.indexOf("G-") === 0) {
        var p = { v: "2", tid: id, cid: cid, en: name, dl: location.href, dt: document.title, gcs: gcs(), gcd: gcd(), _p: String(Date.now()) };
        if (name === "purchase") {
          p["ep.transaction_id"] = params.transaction_id;
          p["epn.value"] = params.value;
          p.cu = params.currency;
        }
        beacon(gaEndpoint + "?" + q(p));
      } else if (id.indexOf("AW-") === 0 && name === "page_view") {
        beacon(adsPing + "?" + q({ tid: id, en: "page_view", url: location.href, gclaw: click, gcs: gcs(), gcd: gcd() }));
      }
    });
    if (name === "conversion" && params.send_to) {
      var to = String(params.send_to).split("/");
      beacon(adsConversion + to[0] + "/?" + q({ label: to[1], oid: params.transaction_id, value: params.value, currency_code: params.currency, url: location.href, gclaw: click, gcs: gcs(), gcd: gcd() }));
    }
  }

  function handle(args) {
    var cmd = args[0];
    if (cmd === "consent") {
      var target = args[1] === "default" ? consent.def : consent.upd;
      for (var k in args[2]) if (k !== "wait_for_update") target[k] = args[2][k];
    } else if (cmd === "config") {
      if (tags.indexOf(args[1]) < 0) tags.push(args[1]);
    } else if (cmd === "event") {
      event(args[1], args[2]);
    }
  }

  var dl = (window.dataLayer = window.dataLayer || []);
  for (var i = 0; i < dl.length; i++) handle(dl[i]);
  var push = dl.push;
  dl.push = function () {
    for (var j = 0; j < arguments.length; j++) handle(arguments[j]);
    return push.apply(dl, arguments);
  };
  window.__gtagStandIn = { sent: function () { return sent; }, firstParty: firstParty };
})();
