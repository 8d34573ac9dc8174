// A stand-in for Meta's fbevents.js, for the recovery lab only. Like the real pixel where the benchmark depends
// on it: fbq('consent', 'revoke' | 'grant') holds everything while revoked; once granted it writes _fbp
// (fb.1.<ms>.<random>) and, from an fbclid on the URL, _fbc (fb.1.<ms>.<fbclid>) from script, 90 days; events go
// to https://www.facebook.com/tr/ with id, ev, eid (the eventID option, Meta's deduplication key with the
// Conversions API), fbp, fbc, dl and cd[...]: PageView as an image, the rest with sendBeacon.
(function () {
  "use strict";
  var pixels = [];
  var allowed = true;
  var sent = 0;
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? m[1] : null;
  }
  // On the registrable domain, as the pixel does (the highest domain the browser accepts).
  function setCookie(name, value) {
    var attrs = "; Max-Age=7776000; Path=/; SameSite=Lax; Secure";
    var labels = location.hostname.split(".");
    for (var i = labels.length - 2; i >= 0; i--) {
      document.cookie = name + "=" + value + attrs + "; Domain=" + labels.slice(i).join(".");
      if (cookie(name) === value) return;
    }
    document.cookie = name + "=" + value + attrs;
  }
  function ids() {
    var fbp = cookie("_fbp");
    if (!fbp) {
      fbp = "fb.1." + Date.now() + "." + Math.floor(Math.random() * 2147483647);
      setCookie("_fbp", fbp);
    }
    var fbclid = new URL(location.href).searchParams.get("fbclid");
    var fbc = cookie("_fbc");
    if (fbclid && (!fbc || fbc.split(".").slice(3).join(".") !== fbclid)) {
      fbc = "fb.1." + Date.now() + "." + fbclid;
      setCookie("_fbc", fbc);
    }
    return { fbp: fbp, fbc: fbc };
  }
  function track(ev, data, options) {
    if (!allowed) return;
    var id = ids();
    pixels.forEach(function (pixel) {
      var parts = ["id=" + pixel, "ev=" + encodeURIComponent(ev), "dl=" + encodeURIComponent(location.href), "fbp=" + encodeURIComponent(id.fbp)];
      if (id.fbc) parts.push("fbc=" + encodeURIComponent(id.fbc));
      if (options && options.eventID) parts.push("eid=" + encodeURIComponent(options.eventID));
      for (var k in data || {}) parts.push("cd[" + k + "]=" + encodeURIComponent(data[k]));
      var url = "https://www.facebook.com/tr/?" + parts.join("&");
      sent++;
      if (ev === "PageView") new Image().src = url;
      else navigator.sendBeacon(url);
    });
  }
  function handle(args) {
    var cmd = args[0];
    if (cmd === "init") pixels.push(args[1]);
    else if (cmd === "consent") allowed = args[1] === "grant";
    else if (cmd === "track") track(args[1], args[2], args[3]);
  }
  var queue = (window.fbq && window.fbq.queue) || [];
  window.fbq = function () { handle(arguments); };
  for (var i = 0; i < queue.length; i++) handle(queue[i]);
  window.__fbqStandIn = { sent: function () { return sent; } };
})();
