// Writes ops/grafana/edge-auth.json, the Grafana dashboard of the Edge Auth API, from the panel list
// below (a generator keeps ids, grid positions and the datasource consistent). Run it after
// changing a panel: `node scripts/make-dashboard.mjs`; `npm test` checks the JSON's structure and
// every query's PromQL (scripts/check-ops.mjs).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "./lib.mjs";

const datasource = { type: "prometheus", uid: "${datasource}" };
const READS = 'method="GET", route!="unmatched"';

/** Each panel: title, unit, queries ([expr, legend]); width 12 (half a row) unless `w`. */
const panels = [
  { title: "Request rate by route", unit: "reqps", queries: [["sum by (route) (rate(edge_auth_http_requests_total[5m]))", "{{route}}"]] },
  {
    title: "Error ratio (5xx) — objective < 0.1 %",
    unit: "percentunit",
    queries: [
      ['sum(rate(edge_auth_http_requests_total{status_class="5xx"}[5m])) / sum(rate(edge_auth_http_requests_total[5m]))', "5xx ratio"],
      ['sum(rate(edge_auth_http_requests_total{status_class="4xx"}[5m])) / sum(rate(edge_auth_http_requests_total[5m]))', "4xx ratio"],
    ],
    thresholds: [0.001],
  },
  ...[0.5, 0.95, 0.99].map((quantile) => ({
    title: `p${Math.round(quantile * 100)} latency by route`,
    unit: "s",
    w: 8,
    queries: [[`histogram_quantile(${quantile}, sum by (le, route) (rate(edge_auth_http_request_duration_seconds_bucket[5m])))`, "{{route}}"]],
    thresholds: quantile === 0.95 ? [0.2] : undefined,
  })),
  {
    title: "p95 of reads (GET) — objective < 200 ms",
    unit: "s",
    queries: [[`histogram_quantile(0.95, sum by (le) (rate(edge_auth_http_request_duration_seconds_bucket{${READS}}[5m])))`, "p95 reads"]],
    thresholds: [0.2],
  },
  { title: "Errors by problem code", unit: "reqps", queries: [["sum by (code, status_class) (rate(edge_auth_http_request_errors_total[5m]))", "{{status_class}} {{code}}"]] },
  { title: "Logins by outcome", unit: "ops", queries: [["sum by (outcome) (rate(edge_auth_logins_total[5m]))", "{{outcome}}"]] },
  {
    title: "Refresh reuse and lock-outs",
    unit: "short",
    queries: [
      ["sum(increase(edge_auth_refresh_reuse_total[15m]))", "refresh reuse (15 min)"],
      ["sum by (policy) (increase(edge_auth_lockouts_total[15m]))", "lock-outs {{policy}} (15 min)"],
    ],
  },
  { title: "Rate-limit rejections by policy", unit: "ops", queries: [['sum by (policy) (rate(edge_auth_rate_limit_decisions_total{decision!="allowed"}[5m]))', "{{policy}}"]] },
  {
    title: "Dependency latency p95",
    unit: "s",
    queries: [["histogram_quantile(0.95, sum by (le, dependency) (rate(edge_auth_dependency_duration_seconds_bucket[5m])))", "{{dependency}}"]],
  },
  { title: "Dependency errors", unit: "ops", queries: [["sum by (dependency, operation) (rate(edge_auth_dependency_errors_total[5m]))", "{{dependency}} {{operation}}"]] },
  { title: "Readiness failures", unit: "short", queries: [["sum by (check) (increase(edge_auth_readiness_failures_total[5m]))", "{{check}}"]] },
  { title: "AI spend per hour (USD)", unit: "currencyUSD", queries: [["sum by (model) (increase(edge_auth_ai_cost_usd_total[1h]))", "{{model}}"]], thresholds: [25] },
  { title: "AI tokens by model", unit: "short", queries: [["sum by (model, kind) (rate(edge_auth_ai_tokens_total[5m]))", "{{model}} {{kind}}"]] },
  {
    title: "Accounts and sessions",
    unit: "short",
    w: 24,
    queries: [
      ['edge_auth_users{state="total"}', "users"],
      ["edge_auth_sessions_live", "live sessions"],
      ["edge_auth_files", "files"],
    ],
  },
];

let x = 0;
let y = 0;
const built = panels.map((panel, index) => {
  const w = panel.w ?? 12;
  if (x + w > 24) {
    x = 0;
    y += 8;
  }
  const gridPos = { h: 8, w, x, y };
  x += w;
  const steps = [{ color: "green", value: null }, ...(panel.thresholds ?? []).map((value) => ({ color: "red", value }))];
  return {
    id: index + 1,
    type: "timeseries",
    title: panel.title,
    datasource,
    gridPos,
    fieldConfig: {
      defaults: { unit: panel.unit, thresholds: { mode: "absolute", steps }, custom: { thresholdsStyle: { mode: panel.thresholds ? "line" : "off" } } },
      overrides: [],
    },
    options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    targets: panel.queries.map(([expr, legendFormat], query) => ({ refId: String.fromCharCode(65 + query), datasource, expr, legendFormat })),
  };
});

const dashboard = {
  uid: "edge-auth-api",
  title: "Edge Auth API",
  description: "Requests, errors and latency per route, auth events, limiter, dependencies and AI spend (docs/metrics.md).",
  tags: ["edge-auth"],
  schemaVersion: 39,
  version: 1,
  editable: true,
  refresh: "30s",
  time: { from: "now-6h", to: "now" },
  timezone: "utc",
  templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" }] },
  links: [{ title: "Runbook", type: "link", url: "docs/RUNBOOK.md", targetBlank: true }],
  panels: built,
};

const file = path.join(root, "ops", "grafana", "edge-auth.json");
writeFileSync(file, `${JSON.stringify(dashboard, null, 2)}\n`);
console.log(`wrote ${path.relative(root, file)} (${built.length} panels)`);
