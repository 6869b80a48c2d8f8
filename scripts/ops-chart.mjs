// `npm run ops:chart`: what healthy looks like, as a picture (docs/ops/dashboard.svg).
// 1. Serves the production bundle, signs in an administrator, drives a short mixed load with
//    autocannon (reads, failed logins, unknown paths) and scrapes the real GET /metrics.
// 2. Saves the scrape (docs/ops/metrics-sample.prom) and checks it with `promtool check metrics`.
// 3. Draws the dashboard's main panels from that scrape and from the last `npm run bench`
//    (bench/results.json): throughput and p50/p95/p99 per scenario, requests and p95 per route,
//    dependency latency, auth outcomes.
// Environment: CHART_SECONDS (load duration, default 8).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "./lib.mjs";
import { promtoolCheckMetrics, scrapeUnderLoad } from "./ops-scrape.mjs";

const seconds = Number(process.env.CHART_SECONDS ?? 8);
const outDir = path.join(root, "docs", "ops");
mkdirSync(outDir, { recursive: true });

/** Samples of the exposition text: [{ name, labels, value }]. */
function parseSamples(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[3] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    samples.push({ name: match[1], labels, value: Number(match[4]) });
  }
  return samples;
}

/** Quantile from cumulative buckets, interpolated inside the bucket like histogram_quantile(). */
function quantile(buckets, q) {
  const sorted = buckets.filter((b) => b.le !== Infinity).sort((a, b) => a.le - b.le);
  const total = buckets.find((b) => b.le === Infinity)?.count ?? 0;
  if (total === 0) return 0;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of sorted) {
    if (bucket.count >= rank) return previous.le + ((bucket.le - previous.le) * (rank - previous.count)) / Math.max(1, bucket.count - previous.count);
    previous = bucket;
  }
  return sorted.at(-1)?.le ?? 0;
}

function histograms(samples, name, key) {
  const groups = new Map();
  for (const sample of samples.filter((s) => s.name === `${name}_bucket`)) {
    const id = key(sample.labels);
    const list = groups.get(id) ?? [];
    list.push({ le: sample.labels.le === "+Inf" ? Infinity : Number(sample.labels.le), count: sample.value });
    groups.set(id, list);
  }
  return groups;
}

const escape = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A horizontal bar chart panel: rows of [label, values...] with one colour per series. */
function barPanel({ x, y, width, title, unit, series, rows }) {
  const colours = ["#3b82f6", "#f59e0b", "#ef4444", "#10b981"];
  const rowHeight = 14 * series.length + 8;
  const labelWidth = 250;
  const max = Math.max(1e-9, ...rows.flatMap((row) => row.values));
  const parts = [`<text x="${x}" y="${y}" class="title">${escape(title)}</text>`];
  series.forEach((name, index) => {
    parts.push(`<rect x="${x + labelWidth + index * 110}" y="${y + 8}" width="10" height="10" fill="${colours[index]}"/><text x="${x + labelWidth + 14 + index * 110}" y="${y + 17}" class="small">${escape(name)}</text>`);
  });
  rows.forEach((row, rowIndex) => {
    const top = y + 28 + rowIndex * rowHeight;
    parts.push(`<text x="${x}" y="${top + 11}" class="label">${escape(row.label.length > 40 ? `${row.label.slice(0, 39)}…` : row.label)}</text>`);
    row.values.forEach((value, index) => {
      const barWidth = Math.max(1, ((width - labelWidth - 80) * value) / max);
      parts.push(`<rect x="${x + labelWidth}" y="${top + index * 14}" width="${barWidth.toFixed(1)}" height="12" fill="${colours[index]}"/>`);
      parts.push(`<text x="${x + labelWidth + barWidth + 4}" y="${top + index * 14 + 10}" class="small">${value < 10 ? value.toFixed(2) : value.toFixed(0)} ${unit}</text>`);
    });
  });
  return { svg: parts.join("\n"), height: 36 + rows.length * rowHeight };
}

console.log(`• serving the production bundle, ${seconds} s of mixed load, then GET /metrics…`);
const { text } = await scrapeUnderLoad({ seconds });
writeFileSync(path.join(outDir, "metrics-sample.prom"), text);
const check = promtoolCheckMetrics(text);
if (check.skipped) console.log("  ! promtool not found: the scrape was not checked");
else if (!check.ok) {
  console.error(`✗ promtool check metrics:\n${check.output}`);
  process.exit(1);
} else console.log(`• promtool check metrics: OK (${text.split("\n").length} lines)${check.output ? `\n${check.output}` : ""}`);

const samples = parseSamples(text);
const panels = [];
const bench = existsSync(path.join(root, "bench", "results.json")) ? JSON.parse(readFileSync(path.join(root, "bench", "results.json"), "utf8")) : null;
if (bench) {
  panels.push({ title: `Benchmark (${bench.date.slice(0, 16)} UTC, ${bench.settings.connections} connections): throughput`, unit: "req/s", series: ["req/s"], rows: bench.scenarios.map((row) => ({ label: row.name, values: [row.req_per_s] })) });
  panels.push({ title: "Benchmark: latency percentiles", unit: "ms", series: ["p50", "p95", "p99"], rows: bench.scenarios.map((row) => ({ label: row.name, values: [row.latency_ms.p50, row.latency_ms.p95, row.latency_ms.p99] })) });
}
const requests = new Map();
for (const sample of samples.filter((s) => s.name === "edge_auth_http_requests_total")) {
  const label = `${sample.labels.method} ${sample.labels.route} ${sample.labels.status_class}`;
  requests.set(label, (requests.get(label) ?? 0) + sample.value);
}
panels.push({ title: `From /metrics after ${seconds} s of mixed load: requests by route and status class`, unit: "", series: ["requests"], rows: [...requests].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([label, value]) => ({ label, values: [value] })) });
const routeLatency = histograms(samples, "edge_auth_http_request_duration_seconds", (labels) => `${labels.method} ${labels.route}`);
panels.push({ title: "Latency by route (from the histogram)", unit: "ms", series: ["p50", "p95", "p99"], rows: [...routeLatency].slice(0, 8).map(([label, buckets]) => ({ label, values: [0.5, 0.95, 0.99].map((q) => quantile(buckets, q) * 1000) })) });
const dependencyLatency = histograms(samples, "edge_auth_dependency_duration_seconds", (labels) => `${labels.dependency} ${labels.operation}`);
panels.push({ title: "Dependency latency p95", unit: "ms", series: ["p95"], rows: [...dependencyLatency].map(([label, buckets]) => ({ label, values: [quantile(buckets, 0.95) * 1000] })) });
const auth = samples.filter((s) => ["edge_auth_logins_total", "edge_auth_lockouts_total"].includes(s.name) || (s.name === "edge_auth_rate_limit_decisions_total" && s.labels.decision !== "allowed"));
panels.push({ title: "Auth outcomes and limiter rejections", unit: "", series: ["count"], rows: auth.map((s) => ({ label: `${s.name.replace("edge_auth_", "")} ${Object.values(s.labels).join(" ")}`, values: [s.value] })) });

const width = 900;
let y = 60;
const body = [];
for (const panel of panels) {
  if (panel.rows.length === 0) continue;
  const drawn = barPanel({ x: 20, y, width: width - 40, ...panel });
  body.push(drawn.svg);
  y += drawn.height + 24;
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">
<style>.title{font-size:14px;font-weight:bold;fill:#111}.label{font-size:11px;fill:#222}.small{font-size:10px;fill:#333}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="30" style="font-size:18px;font-weight:bold">Edge Auth API — healthy traffic (production bundle on Miniflare, ${new Date().toISOString().slice(0, 10)})</text>
${body.join("\n")}
</svg>
`;
writeFileSync(path.join(outDir, "dashboard.svg"), svg);
console.log(`✓ wrote docs/ops/dashboard.svg (${panels.length} panels) and docs/ops/metrics-sample.prom`);
