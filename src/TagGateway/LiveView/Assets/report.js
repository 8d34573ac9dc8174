// The printable report: the same sections as the live page's report tab, drawn once (no polling), all sections open.
'use strict';

(async () => {
  const report = await getJson('/ui/api/report');
  $('report-time').textContent = 'as of ' + report.generatedAt;
  renderReport(report, $('report-body'));
  for (const d of document.querySelectorAll('details')) d.open = true;
  document.body.dataset.ready = 'true';
})();
$('print').addEventListener('click', () => window.print());
