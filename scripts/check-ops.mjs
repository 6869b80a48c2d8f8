// `npm test` step: the operations files are valid and agree with the code.
// - ops/prometheus/alerts.yml: `promtool check rules` and `promtool test rules` (alerts.test.yml);
// - ops/grafana/edge-auth.json: the dashboard's structure, every query's PromQL (through promtool,
//   as recording rules) and every metric it names is one the service exports;
// - every alert's runbook_url points at a heading that exists in docs/RUNBOOK.md;
// - a real scrape: the production bundle served (scripts/serve-bundle.mjs), a few seconds of mixed
//   traffic, GET /metrics with a metrics:read token, piped to `promtool check metrics`
//   (scripts/ops-scrape.mjs; OPS_SCRAPE_SECONDS, default 2).
// promtool comes from Debian's `prometheus` package (.ci/run installs it); without it locally the
// PromQL and scrape checks are skipped with a message, never passed silently.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "./lib.mjs";
import { promtoolCheckMetrics, scrapeUnderLoad } from "./ops-scrape.mjs";

const problems = [];
const fail = (message) => problems.push(message);
const read = (file) => readFileSync(path.join(root, file), "utf8");

/** Metric names the service exports: the catalog plus the gauges rendered at scrape time. */
function exportedMetrics() {
  const names = new Set(["up"]);
  for (const match of read("src/lib/metrics/catalog.ts").matchAll(/^ {2}(edge_auth_[a-z0-9_]+): \{/gm)) names.add(match[1]);
  for (const match of read("src/modules/metrics/prometheus.service.ts").matchAll(/name: "(edge_auth_[a-z0-9_]+)"/g)) names.add(match[1]);
  return names;
}

/** A metric name as used in PromQL, with histogram suffixes resolved to the family. */
function familyOf(name, exported) {
  if (exported.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return exported.has(base) ? base : null;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown) {
  return new Set(
    [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((match) =>
      match[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"),
    ),
  );
}

function promtool(args, cwd) {
  const result = spawnSync("promtool", args, { cwd, encoding: "utf8" });
  if (result.error) return null;
  if (result.status !== 0) fail(`promtool ${args.join(" ")}:\n${result.stdout}${result.stderr}`);
  return result;
}

const exported = exportedMetrics();
const runbookAnchors = anchors(read("docs/RUNBOOK.md"));

// Alert rules: runbook links and metric names (promtool checks the rest).
const alerts = read("ops/prometheus/alerts.yml");
const alertNames = [...alerts.matchAll(/- alert: (\S+)/g)].map((match) => match[1]);
const runbookUrls = [...alerts.matchAll(/runbook_url: "([^"]+)"/g)].map((match) => match[1]);
if (alertNames.length === 0 || runbookUrls.length !== alertNames.length) fail(`alerts.yml: ${alertNames.length} alerts but ${runbookUrls.length} runbook_url annotations`);
for (const url of runbookUrls) {
  const [file, anchor] = url.split("#");
  if (file !== "docs/RUNBOOK.md" || !runbookAnchors.has(anchor)) fail(`alerts.yml: runbook_url ${url} has no heading in docs/RUNBOOK.md`);
}

// Dashboard structure.
const dashboard = JSON.parse(read("ops/grafana/edge-auth.json"));
const expressions = [];
if (typeof dashboard.uid !== "string" || typeof dashboard.title !== "string" || !Array.isArray(dashboard.panels) || dashboard.panels.length === 0) {
  fail("edge-auth.json: needs uid, title and panels");
}
const ids = new Set();
for (const panel of dashboard.panels ?? []) {
  const where = `edge-auth.json panel ${panel.id} "${panel.title}"`;
  if (!Number.isInteger(panel.id) || ids.has(panel.id)) fail(`${where}: id missing or repeated`);
  ids.add(panel.id);
  const { x, y, w, h } = panel.gridPos ?? {};
  if (![x, y, w, h].every(Number.isInteger) || x < 0 || w < 1 || x + w > 24 || h < 1) fail(`${where}: gridPos outside the 24-column grid`);
  if (typeof panel.type !== "string" || typeof panel.title !== "string") fail(`${where}: type and title are required`);
  if (!Array.isArray(panel.targets) || panel.targets.length === 0) fail(`${where}: no query`);
  for (const target of panel.targets ?? []) {
    if (typeof target.expr !== "string" || typeof target.refId !== "string") fail(`${where}: a target without expr/refId`);
    else expressions.push({ panel: panel.id, refId: target.refId, expr: target.expr });
  }
}
const required = ["request rate", "error ratio", "p50", "p95", "p99", "logins", "rate-limit", "dependency latency", "ai spend"];
const titles = (dashboard.panels ?? []).map((panel) => panel.title.toLowerCase()).join(" | ");
for (const topic of required) if (!titles.includes(topic)) fail(`edge-auth.json: no panel about "${topic}"`);

// Every metric named by a query or an alert is exported by the service.
const PROMQL_WORDS = new Set(["sum", "by", "rate", "increase", "histogram_quantile", "absent", "le", "without", "on", "ignoring"]);
const named = [...expressions.map((item) => item.expr), ...[...alerts.matchAll(/expr: \|?\n?([\s\S]*?)\n\s+(?:for|labels):/g)].map((match) => match[1])];
for (const expr of named) {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, "").replace(/"[^"]*"/g, "").replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, "");
  for (const [word] of withoutLabels.matchAll(/\b[a-z_][a-z0-9_]*\b/g)) {
    if (PROMQL_WORDS.has(word) || !word.includes("_") || word === "histogram_quantile") continue;
    if (!familyOf(word, exported)) fail(`query names ${word}, which the service does not export: ${expr.trim()}`);
  }
}

// promtool: the rules, their unit tests, and the dashboard's PromQL as recording rules.
const version = spawnSync("promtool", ["--version"], { encoding: "utf8" });
if (version.error) {
  console.log("  ! promtool not found (Debian package `prometheus`; .ci/run installs it): PromQL and scrape checks SKIPPED");
} else {
  promtool(["check", "rules", "alerts.yml"], path.join(root, "ops", "prometheus"));
  promtool(["test", "rules", "alerts.test.yml"], path.join(root, "ops", "prometheus"));
  const scratch = mkdtempSync(path.join(tmpdir(), "dashboard-rules-"));
  const rules = expressions.map((item) => `      - record: dashboard:panel_${item.panel}_${item.refId}\n        expr: ${JSON.stringify(item.expr)}`).join("\n");
  writeFileSync(path.join(scratch, "dashboard.yml"), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
  promtool(["check", "rules", "dashboard.yml"], scratch);
  rmSync(scratch, { recursive: true, force: true });
}

// The exposition GET /metrics really serves, after real traffic, as Prometheus would read it.
let scraped = "real scrape SKIPPED (no promtool)";
if (!version.error) {
  const seconds = Number(process.env.OPS_SCRAPE_SECONDS ?? 2);
  try {
    const { text } = await scrapeUnderLoad({ seconds });
    const check = promtoolCheckMetrics(text);
    const families = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]));
    if (!check.ok) fail(`promtool check metrics on a real scrape of GET /metrics:\n${check.output}`);
    else if (!families.has("edge_auth_http_requests_total") || !/edge_auth_http_requests_total\{[^}]*route="\/api\/v1\/users\/me"/.test(text)) {
      fail("the scrape after traffic has no edge_auth_http_requests_total sample for /api/v1/users/me");
    } else scraped = `a real scrape (${families.size} metric families, ${text.split("\n").length} lines) passes promtool check metrics`;
  } catch (error) {
    fail(`real scrape of GET /metrics: ${error instanceof Error ? error.message : error}`);
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`  ✗ ${problem}`);
  process.exit(1);
}
console.log(`  ✓ ${alertNames.length} alert rules, ${dashboard.panels.length} dashboard panels with ${expressions.length} queries, runbook links resolve; ${scraped}`);
