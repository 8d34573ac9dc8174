// The lab shop's pages. One template: the scenario decides where Google's tag comes from.
export const GA4_ID = "G-LAB12345";
export const ADS_ID = "AW-LAB12345";
export const META_PIXEL = "100200300400";

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/**
 * page: "landing" | "product" | "thanks"; mode: "pixel" (tags from Google's and Meta's hosts) or "gateway" (Google's
 * tag through the first-party measurement path; Meta's pixel has no first-party path, so it stays on Meta's host).
 */
export function renderPage({ page, mode, measurementPath = "/metrics", order = null }) {
  const gtagSrc = mode === "gateway" ? `${measurementPath}/gtag/js?id=${GA4_ID}` : `https://www.googletagmanager.com/gtag/js?id=${GA4_ID}`;
  const purchase = order
    ? `gtag('event','purchase',{transaction_id:${JSON.stringify(order.orderId)},value:${Number(order.value)},currency:'EUR'});
       gtag('event','conversion',{send_to:'${ADS_ID}/purchase',transaction_id:${JSON.stringify(order.orderId)},value:${Number(order.value)},currency:'EUR'});
       fbq('track','Purchase',{value:${Number(order.value)},currency:'EUR'},{eventID:${JSON.stringify(order.orderId)}});`
    : "";
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Lab shop: ${escape(page)}</title>
<script>
  // The consent banner's state lives in a script-written cookie, as most CMPs keep it.
  window.dataLayer = window.dataLayer || [];
  function gtag(){ dataLayer.push(arguments); }
  gtag('consent', 'default', { ad_storage: 'denied', analytics_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
  window.fbq = function(){ fbq.queue.push(arguments); }; fbq.queue = [];
  fbq('consent', 'revoke');
  function applyConsent(c) {
    var g = c === 'granted' ? 'granted' : 'denied';
    gtag('consent', 'update', { ad_storage: g, analytics_storage: g, ad_user_data: g, ad_personalization: g });
    fbq('consent', c === 'granted' ? 'grant' : 'revoke');
  }
  var stored = (document.cookie.match(/(?:^|; )lab_consent=([^;]*)/) || [])[1] || null;
  if (stored) applyConsent(stored);
  fbq('init', '${META_PIXEL}');
  gtag('js', new Date());
  gtag('config', '${GA4_ID}');
  gtag('config', '${ADS_ID}');
  window.labConsentStored = function(){ return stored; };
  window.labConsent = function(c){ document.cookie = 'lab_consent=' + c + '; Max-Age=15552000; Path=/; SameSite=Lax; Secure'; stored = c; applyConsent(c); };
  window.labFire = function(){
    gtag('event', 'page_view');
    fbq('track', 'PageView');
    ${purchase}
  };
  window.labSettled = 0;
</script>
<script async src="${escape(gtagSrc)}" onload="labSettled++" onerror="labSettled++"></script>
<script async src="https://connect.facebook.net/en_US/fbevents.js" onload="labSettled++" onerror="labSettled++"></script>
</head><body><h1>Lab shop</h1><p>${escape(page)}</p></body></html>`;
}
