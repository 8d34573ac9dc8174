// The SVG chart for the README: one panel per measure, a group of bars per destination, one bar per scenario.
// Pure: figures in, SVG text out (no dependency, no font beyond the system's sans-serif).

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const COLORS = ["#9aa5b1", "#1f6feb", "#2da44e", "#bf8700"];

/**
 * panels: [{ title, values: { [dest]: { [scenario]: number in [0,1] | null } } }]
 * dests: [{ key, label }], scenarios: [{ key, label }], caption: one line under the title.
 */
export function renderChart({ title, caption, panels, dests, scenarios, footnotes = [] }) {
  const panelW = 300;
  const panelH = 200;
  const top = 70;
  const left = 40;
  const width = left + panels.length * panelW + 20;
  const height = top + panelH + 54 + footnotes.length * 16;
  const plotH = 160;
  const groupW = (panelW - 30) / dests.length;
  const barW = Math.min(26, (groupW - 14) / scenarios.length);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${left}" y="40" fill="#57606a">${esc(caption)}</text>`);
  panels.forEach((panel, pi) => {
    const x0 = left + pi * panelW;
    const y0 = top + 20;
    const yOf = (v) => y0 + plotH - v * plotH;
    out.push(`<text x="${x0}" y="${top + 4}" font-weight="bold">${esc(panel.title)}</text>`);
    for (const t of [0, 0.5, 1]) {
      out.push(`<line x1="${x0}" x2="${x0 + panelW - 30}" y1="${yOf(t)}" y2="${yOf(t)}" stroke="#d0d7de" stroke-width="${t === 0 ? 1 : 0.5}"/>`);
      out.push(`<text x="${x0 - 4}" y="${yOf(t) + 4}" text-anchor="end" fill="#57606a">${t * 100}%</text>`);
    }
    dests.forEach((d, di) => {
      const gx = x0 + di * groupW + (groupW - barW * scenarios.length) / 2;
      scenarios.forEach((s, si) => {
        const v = panel.values[d.key]?.[s.key];
        const bx = gx + si * barW;
        if (v === null || v === undefined) {
          out.push(`<text x="${bx + barW / 2}" y="${yOf(0) - 4}" text-anchor="middle" fill="#57606a" font-size="9">n/a</text>`);
          return;
        }
        out.push(`<rect x="${bx + 1}" y="${yOf(v)}" width="${barW - 2}" height="${Math.max(0, yOf(0) - yOf(v))}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${d.label}, ${s.label}: ${(v * 100).toFixed(1)}%`)}</title></rect>`);
        out.push(`<text x="${bx + barW / 2}" y="${yOf(v) - 3}" text-anchor="middle" font-size="9">${Math.round(v * 100)}</text>`);
      });
      out.push(`<text x="${gx + (barW * scenarios.length) / 2}" y="${yOf(0) + 14}" text-anchor="middle">${esc(d.label)}</text>`);
    });
  });
  const legendY = top + panelH + 24;
  scenarios.forEach((s, si) => {
    const lx = left + si * 300;
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${legendY}">${esc(s.label)}</text>`);
  });
  footnotes.forEach((f, i) => out.push(`<text x="${left}" y="${legendY + 22 + i * 16}" fill="#57606a">${esc(f)}</text>`));
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
