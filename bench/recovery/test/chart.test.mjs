import { test } from "node:test";
import assert from "node:assert/strict";
import { renderChart } from "../lib/chart.mjs";

const input = {
  title: "T <&>",
  caption: "c",
  dests: [{ key: "ga4", label: "GA4" }, { key: "meta", label: "Meta" }],
  scenarios: [{ key: "pixel", label: "Pixel only" }, { key: "gateway", label: "Gateway" }],
  panels: [{ title: "Delivered", values: { ga4: { pixel: 0.5, gateway: 1 }, meta: { pixel: null, gateway: 0 } } }],
};

test("one bar per destination and scenario with a value; n/a where there is none", () => {
  const svg = renderChart(input);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 3 + 2); // three bars and two legend swatches
  assert.match(svg, /GA4, Pixel only: 50\.0%/);
  assert.match(svg, /GA4, Gateway: 100\.0%/);
  assert.match(svg, /Meta, Gateway: 0\.0%/);
  assert.equal((svg.match(/>n\/a</g) ?? []).length, 1);
});

test("text is escaped and the document is one svg element", () => {
  const svg = renderChart(input);
  assert.match(svg, /T &lt;&amp;&gt;/);
  assert.ok(svg.startsWith("<svg ") && svg.trimEnd().endsWith("</svg>"));
});

test("a bar's height is proportional to its value", () => {
  const svg = renderChart(input);
  const h = (label) => Number(new RegExp(`height="([0-9.]+)" fill="[^"]+"><title>${label}`).exec(svg)[1]);
  assert.equal(h("GA4, Pixel only"), h("GA4, Gateway") / 2);
});

test("footnotes are written under the legend, escaped", () => {
  const svg = renderChart({ ...input, footnotes: ["refused: 0 <none>", "second"] });
  assert.match(svg, /refused: 0 &lt;none&gt;<\/text>/);
  assert.match(svg, />second<\/text>/);
});
