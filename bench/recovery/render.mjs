// Redraws bench/results/recovery.svg from recovery.json (no run): node bench/recovery/render.mjs [results dir]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chartOf, printSummary } from "./lib/report.mjs";

const dir = process.argv[2] ?? new URL("../results/", import.meta.url).pathname;
const o = JSON.parse(readFileSync(join(dir, "recovery.json"), "utf8"));
writeFileSync(join(dir, "recovery.svg"), chartOf(o));
printSummary(o);
