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

function cookiesCell(e) {
  const cell = el('td', { class: 'cookies' });
  for (const c of e.cookies) {
    cell.append(el('span', { class: 'pill ' + (c.action === 'expired' ? 'no' : 'ok'), 'data-cookie': c.name },
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
    consentCell(e),
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

// Friendly titles for the counters the assessment is about; any other TagGateway series is listed under its own name.
const SECTIONS = [
  ['taggateway_requests_total', 'Requests through the public listener'],
  ['taggateway_script_cache_lookups_total', 'Script cache lookups'],
  ['taggateway_upstream_duration_seconds_count', 'Upstream answers'],
  ['taggateway_cookies_written_total', 'Identifier cookies written (server-set, restored)'],
  ['taggateway_user_data_stripped_total', 'User data stripped (ad_user_data denied)'],
  ['taggateway_capi_events_accepted_total', 'CAPI events accepted'],
  ['taggateway_capi_events_delivered_total', 'CAPI events delivered'],
  ['taggateway_capi_events_merged_total', 'CAPI events deduplicated (browser + server merged)'],
  ['taggateway_capi_events_duplicates_total', 'CAPI duplicates dropped'],
  ['taggateway_capi_events_dead_lettered_total', 'CAPI events dead-lettered'],
  ['taggateway_capi_events_dropped_total', 'CAPI events dropped (stale, refused)'],
  ['taggateway_capi_identity_keys_total', 'CAPI match keys by identity key'],
  ['taggateway_rejected_total', 'Requests refused'],
];

function barChart(samples) {
  const max = Math.max(1, ...samples.map((s) => s.value));
  const height = 18 * samples.length + 4;
  const chart = svg('svg', { width: '100%', height: String(height), viewBox: '0 0 600 ' + height, role: 'img' });
  samples.forEach((s, i) => {
    const y = 2 + i * 18;
    chart.append(svg('text', { x: '0', y: String(y + 12) }, s.labels.replace(/[{}"]/g, '') || '(all)'));
    chart.append(svg('rect', { x: '250', y: String(y + 2), width: String(Math.max(1, 280 * s.value / max)), height: '13', fill: '#4f9cf9' }));
    chart.append(svg('text', { x: String(255 + 280 * s.value / max), y: String(y + 12) }, String(s.value)));
  });
  return chart;
}

function valueTable(samples) {
  const table = el('table', {});
  for (const s of samples) {
    table.append(el('tr', {}, el('td', {}, s.labels || '(all)'),
      el('td', { class: 'value', 'data-metric': s.metric, 'data-labels': s.labels }, String(s.value))));
  }
  return table;
}

async function pollReport() {
  const report = await getJson('/ui/api/report');
  $('report-time').textContent = 'as of ' + report.generatedAt;
  const byMetric = new Map();
  for (const s of report.samples) {
    if (!byMetric.has(s.metric)) byMetric.set(s.metric, []);
    byMetric.get(s.metric).push(s);
  }
  const cards = [];
  const card = (title, samples) => cards.push(el('div', { class: 'card', 'data-metric': samples[0].metric },
    el('h3', {}, title), barChart(samples), valueTable(samples)));
  for (const [metric, title] of SECTIONS) {
    if (byMetric.has(metric)) { card(title, byMetric.get(metric)); byMetric.delete(metric); }
  }
  const sums = byMetric.get('taggateway_upstream_duration_seconds_sum');
  const counts = report.samples.filter((s) => s.metric === 'taggateway_upstream_duration_seconds_count');
  if (sums && counts.length) {
    const mean = sums.map((s) => {
      const c = counts.find((x) => x.labels === s.labels);
      return { metric: 'mean_upstream_ms', labels: s.labels, value: c && c.value ? Math.round(1000 * s.value / c.value * 10) / 10 : 0 };
    });
    cards.push(el('div', { class: 'card' }, el('h3', {}, 'Mean upstream latency (ms)'), barChart(mean)));
    byMetric.delete('taggateway_upstream_duration_seconds_sum');
  }
  for (const [metric, samples] of byMetric) card(metric, samples);
  try {
    const quality = await getJson('/capi/match-quality');
    cards.push(el('div', { class: 'card' }, el('h3', {}, 'CAPI match quality (estimated)'), el('pre', {}, JSON.stringify(quality, null, 2))));
  } catch { /* the CAPI module is off */ }
  $('report-body').replaceChildren(...(cards.length ? cards : [el('p', { class: 'muted' }, 'No counter has a value yet.')]));
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

for (const a of document.querySelectorAll('nav a')) a.addEventListener('click', () => show(a.dataset.tab));
$('route').addEventListener('change', resetLive);
$('client').addEventListener('input', resetLive);
$('pause').addEventListener('click', () => { state.paused = !state.paused; $('pause').textContent = state.paused ? 'Resume' : 'Pause'; });
$('print').addEventListener('click', () => window.print());
show((location.hash || '#live').substring(1));
tick();
