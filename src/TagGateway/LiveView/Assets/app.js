// The live view, setup check and signal-health report: plain DOM, polling the JSON under /ui/api/ once a second.
// Every value is inserted as text (never as HTML): the data comes from visitors' requests.
'use strict';

const state = { newest: 0, paused: false, tab: 'live', seen: new Set() };
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text != null) node.textContent = text;
  return node;
}

function lifetime(seconds) {
  if (seconds == null) return 'session';
  if (seconds === 0) return 'expired';
  if (seconds >= 86400) return Math.round(seconds / 86400) + 'd';
  if (seconds >= 3600) return Math.round(seconds / 3600) + 'h';
  return seconds + 's';
}

function consentCell(e) {
  const cell = el('td', { class: 'consent' });
  for (const d of e.destinations) {
    const cls = d.send ? (d.identifiers ? 'ok' : 'warn') : 'no';
    const what = d.send ? (d.identifiers ? 'send + ids' : 'send, no ids') : 'blocked';
    cell.append(el('span', { class: 'pill ' + cls, 'data-destination': d.name }, d.name + ': ' + what));
  }
  if (e.analyticsStorage) {
    cell.append(el('div', { class: 'muted' },
      'analytics_storage ' + (e.analyticsStorage.granted ? 'granted' : 'denied') + ' (' + e.analyticsStorage.source + '), ' +
      'ad_storage ' + (e.adStorage.granted ? 'granted' : 'denied') + ' (' + e.adStorage.source + ')' +
      (e.region ? ', region ' + e.region : ', no region') + (e.gpc ? ', GPC' : '')));
  }
  return cell;
}

// A CAPI ingest: what its events became, per event with the destinations that take it.
function capiCell(e) {
  const cell = el('td', { class: 'consent capi' });
  const c = e.capi;
  cell.append(el('div', {}, c.accepted + ' accepted, ' + c.merged + ' merged, ' + c.duplicates + ' duplicate, ' + c.notSent + ' not sent'));
  for (const ev of c.events) {
    const cls = ev.fate === 'accepted' || ev.fate === 'merged' ? 'ok' : ev.fate === 'duplicate' ? 'warn' : 'no';
    cell.append(el('span', { class: 'pill ' + cls, 'data-fate': ev.fate },
      ev.name + ' → ' + (ev.destinations.length ? ev.destinations.join(', ') : 'none') + ': ' + ev.fate));
  }
  return cell;
}

const COOKIE_CLASS = { expired: 'no', restored: 'warn', minted: 'ok', refreshed: 'ok', copied: 'ok', written: 'ok' };

function cookiesCell(e) {
  const cell = el('td', { class: 'cookies' });
  for (const c of e.cookies) {
    cell.append(el('span', { class: 'pill ' + (COOKIE_CLASS[c.action] || 'ok'), 'data-cookie': c.name, 'data-action': c.action },
      c.name + ' ' + c.action + ' ' + lifetime(c.maxAgeSeconds) + (c.httpOnly ? ' HttpOnly' : '') + (c.secure ? ' Secure' : '')));
  }
  return cell;
}

function row(e) {
  const events = e.event ? e.event + (e.eventCount > 1 ? ' +' + (e.eventCount - 1) : '') : (e.detail || '');
  const tr = el('tr', { 'data-seq': e.seq, 'data-route': e.route, class: 'new' },
    el('td', {}, e.time.substring(11, 23)),
    el('td', {}, e.route),
    el('td', {}, e.tag || ''),
    el('td', {}, e.clientId || ''),
    el('td', {}, events),
    el('td', {}, e.status),
    el('td', {}, e.latencyMs ? e.latencyMs.toFixed(1) + ' ms' : ''),
    e.capi ? capiCell(e) : consentCell(e),
    cookiesCell(e));
  return tr;
}

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(url + ': ' + r.status);
  return r.json();
}

function filterQuery() {
  const q = new URLSearchParams();
  if ($('route').value) q.set('route', $('route').value);
  if ($('client').value.trim()) q.set('client', $('client').value.trim());
  return q;
}

async function pollLive() {
  const q = filterQuery();
  q.set('after', String(state.newest));
  const page = await getJson('/ui/api/live?' + q);
  const body = $('hits').tBodies[0];
  const fresh = page.entries.filter((e) => !state.seen.has(e.seq));
  for (let i = fresh.length - 1; i >= 0; i--) {
    state.seen.add(fresh[i].seq);
    body.insertBefore(row(fresh[i]), body.firstChild);
  }
  while (body.rows.length > page.capacity) body.deleteRow(body.rows.length - 1);
  state.newest = page.newest;
}

function resetLive() {
  state.newest = 0;
  state.seen.clear();
  $('hits').tBodies[0].replaceChildren();
}

async function pollSetup() {
  const report = await getJson('/ui/api/setup');
  $('setup-lines').replaceChildren(...report.lines.map((l) => el('li', { class: 'line ' + l.level, 'data-id': l.id, 'data-level': l.level },
    el('span', { class: 'level' }, l.level), el('strong', {}, l.title),
    el('div', {}, l.detail), l.fix ? el('div', { class: 'fix' }, 'Fix: ' + l.fix) : '')));
}

function barChart(rows) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const height = 18 * rows.length + 4;
  const chart = svg('svg', { width: '100%', height: String(height), viewBox: '0 0 600 ' + height, role: 'img' });
  rows.forEach((r, i) => {
    const y = 2 + i * 18;
    chart.append(svg('text', { x: '0', y: String(y + 12) }, r.label));
    chart.append(svg('rect', { x: '250', y: String(y + 2), width: String(Math.max(1, 280 * r.value / max)), height: '13', fill: r.colour || '#4f9cf9' }));
    chart.append(svg('text', { x: String(255 + 280 * r.value / max), y: String(y + 12) }, String(r.value)));
  });
  return chart;
}

// A number the report took from the counters; data-check names the series it sums, so a test can compare with /metrics.
function num(value, check) {
  return el('td', { class: 'num', 'data-check': check || '' }, value == null ? '–' : String(value));
}

function table(head, rows) {
  return el('table', { class: 'report' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows));
}

const card = (title, ...children) => el('div', { class: 'card' }, el('h3', {}, title), ...children);

function capiCards(capi) {
  const cards = [];
  const d = capi.destinations;
  cards.push(card('Conversion APIs: per destination',
    el('p', { class: 'muted' }, 'Stored from browser hits: ' + capi.acceptedFromBrowser + ' · from the site\'s server: ' + capi.acceptedFromServer +
      '. Merged: seen from both sides, sent once.'),
    table(['Destination', 'Delivered', 'Merged (browser + server)', 'Duplicates dropped', 'Dead-lettered', 'Stale dropped', 'Other drops', 'Last delivery', 'Est. match score'],
      d.map((x) => el('tr', { 'data-destination': x.destination }, el('td', {}, x.destination),
        num(x.delivered, 'taggateway_capi_events_delivered_total|destination=' + x.destination),
        num(x.mergedBrowserAndServer, 'taggateway_capi_events_merged_total|destination=' + x.destination),
        num(x.duplicatesDropped, 'taggateway_capi_events_duplicates_total|destination=' + x.destination),
        num(x.deadLettered, 'taggateway_capi_events_dead_lettered_total|destination=' + x.destination),
        num(x.staleDropped, 'taggateway_capi_events_dropped_total|destination=' + x.destination + ',reason=stale'),
        num(x.otherDropped),
        el('td', {}, x.lastDelivery ? x.lastDelivery.substring(0, 19).replace('T', ' ') + ' UTC' : 'none since start'),
        num(x.estimatedMatchScore)))),
    barChart(d.map((x) => ({ label: x.destination + ' delivered', value: x.delivered })))));
  for (const x of d) {
    if (!x.delivered) continue;
    cards.push(card('Match quality by identity key: ' + x.destination + ' (estimated score ' + x.estimatedMatchScore + ' / 10)',
      barChart(x.identityKeys.filter((k) => k.events > 0).map((k) => ({ label: k.key + ' (weight ' + k.weight + ')', value: Math.round(k.share * 100), colour: '#3aa76d' }))),
      table(['Key', 'Weight', 'Events carrying it', 'Share'], x.identityKeys.map((k) => el('tr', {}, el('td', {}, k.key), el('td', {}, String(k.weight)),
        num(k.events, 'taggateway_capi_identity_keys_total|destination=' + x.destination + ',key=' + k.key), el('td', {}, Math.round(k.share * 100) + ' %'))))));
  }
  return cards;
}

function renderReport(report, target) {
  const cards = [];
  if (report.capi.destinations.length) cards.push(...capiCards(report.capi));
  const regions = report.consentByRegion;
  cards.push(card('Consent outcomes by region',
    regions.length ? barChart(regions.map((r) => ({ label: r.region + ' (analytics granted)', value: r.analyticsGranted })).concat(
      regions.map((r) => ({ label: r.region + ' (analytics denied)', value: r.hits - r.analyticsGranted, colour: '#d9534f' })))) : el('p', { class: 'muted' }, 'No hit yet.'),
    table(['Region', 'Hits', 'analytics_storage granted', 'ad_storage granted'], regions.map((r) => el('tr', {}, el('td', {}, r.region),
      num(r.hits, 'taggateway_consent_decisions_total|region=' + r.region),
      num(r.analyticsGranted, 'taggateway_consent_decisions_total|region=' + r.region + ',analytics_storage=granted'),
      num(r.adsGranted, 'taggateway_consent_decisions_total|region=' + r.region + ',ad_storage=granted'))))));
  const c = report.cookies;
  cards.push(card('Identifier cookies by header (the Safari recovery)',
    barChart([{ label: 'restored from the HttpOnly copy', value: c.restored, colour: '#e0a03a' }, { label: 'server-set identifier minted', value: c.serverSet },
      { label: 'refreshed', value: c.refreshed }, { label: 'expired (withdrawal)', value: c.expired, colour: '#d9534f' }]),
    table(['Restored', 'Server-set (minted)', 'Refreshed', 'Expired'], [el('tr', {},
      num(c.restored, 'taggateway_cookies_written_total|action=restore'), num(c.serverSet, 'taggateway_cookies_written_total|action=mint'),
      num(c.refreshed, 'taggateway_cookies_written_total|action=refresh'), num(c.expired, 'taggateway_cookies_written_total|action=expire'))])));
  const s = report.scripts;
  cards.push(card('Script cache',
    el('p', {}, s.hitRate == null ? 'No script load yet.' : 'Hit rate ' + Math.round(s.hitRate * 1000) / 10 + ' % (' + s.servedFromCache + ' of ' + s.lookups + ' lookups served from cache)'),
    s.byResult.length ? barChart(s.byResult.map((x) => ({ label: x.labels.replace(/[{}"]/g, ''), value: x.value }))) : ''));
  cards.push(card('Upstream latency (mean)',
    report.upstream.length ? barChart(report.upstream.map((u) => ({ label: u.route + ' (' + u.responses + ')', value: u.meanMilliseconds || 0 }))) : el('p', { class: 'muted' }, 'No upstream answer yet.'),
    table(['Route', 'Responses', 'Mean (ms)'], report.upstream.map((u) => el('tr', {}, el('td', {}, u.route),
      num(u.responses, 'taggateway_upstream_duration_seconds_count|route=' + u.route), num(u.meanMilliseconds))))));
  // Every series as is, for whoever wants the raw counters.
  cards.push(el('details', { class: 'card raw' }, el('summary', {}, 'All counters (' + report.samples.length + ' series)'),
    el('table', {}, ...report.samples.map((x) => el('tr', {}, el('td', {}, x.metric + x.labels),
      el('td', { class: 'value', 'data-metric': x.metric, 'data-labels': x.labels }, String(x.value)))))));
  target.replaceChildren(...cards);
}

async function pollReport() {
  const report = await getJson('/ui/api/report');
  $('report-time').textContent = 'as of ' + report.generatedAt;
  renderReport(report, $('report-body'));
}

function show(tab) {
  state.tab = tab;
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== tab;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === tab);
}

async function tick() {
  if (!state.paused) {
    try {
      await pollLive();
      if (state.tab === 'setup') await pollSetup();
      if (state.tab === 'report') await pollReport();
      $('status').textContent = 'live · ' + new Date().toLocaleTimeString();
    } catch (e) {
      $('status').textContent = 'disconnected (' + e.message + ')';
    }
  }
  setTimeout(tick, 1000);
}

if ($('hits')) {
  for (const a of document.querySelectorAll('nav a')) a.addEventListener('click', () => show(a.dataset.tab));
  $('route').addEventListener('change', resetLive);
  $('client').addEventListener('input', resetLive);
  $('pause').addEventListener('click', () => { state.paused = !state.paused; $('pause').textContent = state.paused ? 'Resume' : 'Pause'; });
  show((location.hash || '#live').substring(1));
  tick();
}
