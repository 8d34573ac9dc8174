/* TagGateway demo tag: a stand-in for gtag.js served by the built-in demo upstream.
   Like fps.goog, it builds its follow-up URLs from the path it was loaded from. */
(function () {
  var script = document.currentScript;
  var src = new URL(script.src, location.href);
  var base = src.pathname.replace(/\/(gtag\/js|gtag\.js|gtm\.js)$/, '').replace(/\/$/, '');
  var tagId = src.searchParams.get('id');
  var match = document.cookie.match(/(?:^|;\s*)_ga=GA1\.\d+\.(\d+\.\d+)/);
  var cid = match ? match[1] : Math.floor(Math.random() * 2147483647) + '.' + Math.floor(Date.now() / 1000);
  if (!match) {
    // Written by script, as gtag.js does: Safari caps this one at 7 days; the gateway's HTTP cookies are not capped.
    document.cookie = '_ga=GA1.1.' + cid + '; path=/; max-age=63072000; samesite=lax';
  }
  var query = 'v=2&tid=' + encodeURIComponent(tagId) + '&cid=' + encodeURIComponent(cid) +
    '&en=page_view&gcs=G111&gcd=13t3t3t3t5&dl=' + encodeURIComponent(location.href) + '&dt=' + encodeURIComponent(document.title);
  var state = window.tagGatewayDemo = { scriptUrl: src.href, hitUrl: base + '/g/collect?' + query, hitStatus: null };
  fetch(state.hitUrl, { method: 'POST', body: 'en=scroll&epn.percent_scrolled=90\r\n', keepalive: true, credentials: 'same-origin' })
    .then(function (r) { state.hitStatus = r.status; document.dispatchEvent(new Event('taggateway-demo')); })
    .catch(function (e) { state.hitStatus = String(e); document.dispatchEvent(new Event('taggateway-demo')); });
})();
