// `npm run bench`: builds the production bundle, serves it with Miniflare on loopback (not
// `wrangler dev`, whose proxy and per-request logging would be measured instead of the worker) and
// drives every scenario of bench/scenarios.mjs with autocannon: a warm-up, then a fixed duration at a
// fixed number of connections. Prints a table and writes bench/results.json.
//
// Environment: BENCH_DURATION (seconds per scenario, default 10), BENCH_WARMUP (seconds, default 3),
// BENCH_CONNECTIONS (default 10), BENCH_ONLY (a regular expression on scenario names; the baseline
// always runs).
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { scenarios as allScenarios, serverVars } from "../bench/scenarios.mjs";
import { runAutocannon } from "./autocannon-run.mjs";
import { root } from "./lib.mjs";
import { serveBundle } from "./serve-bundle.mjs";

function positiveNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const settings = {
  durationSeconds: positiveNumber("BENCH_DURATION", 10),
  warmupSeconds: positiveNumber("BENCH_WARMUP", 3),
  connections: Math.round(positiveNumber("BENCH_CONNECTIONS", 10)),
};
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const scenarios = allScenarios.filter((scenario, index) => index === 0 || !only || only.test(scenario.name));

/** Every measured latency per scenario name, for pooled summaries. */
const rawLatencies = new Map();

/** Exact percentile of a sorted list (nearest rank). */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * A scenario with `vars` runs against its own server started with those variables on top of
 * serverVars (e.g. a feature switched off), so an on/off pair is measured in the same run.
 */
async function runScenario(mainServer, scenario) {
  if (!scenario.vars) return measureScenario(mainServer, scenario);
  const own = await serveBundle({ vars: { ...serverVars, ...scenario.vars } });
  try {
    return await measureScenario(own, scenario);
  } finally {
    await own.dispose();
  }
}

async function measureScenario(server, scenario) {
  const request = (requestPath, init) => fetch(`${server.url}${requestPath}`, init);
  const prepared = scenario.setup ? await scenario.setup({ url: server.url, vars: server.vars, mf: server.mf, request }) : {};
  const body = prepared.body ?? scenario.body;
  const headers = { ...scenario.headers, ...prepared.headers };
  if (body !== undefined && typeof body !== "string") headers["content-type"] ??= "application/json";
  const options = {
    url: `${server.url}${prepared.path ?? scenario.path}`,
    method: scenario.method ?? "GET",
    headers,
    body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
    connections: scenario.connections ?? settings.connections,
    ...(prepared.requests ? { requests: prepared.requests } : {}),
  };
  const expectStatus = scenario.expectStatus ?? 200;

  await runAutocannon({ ...options, duration: settings.warmupSeconds });
  const { result, latencies, statuses } = await runAutocannon({ ...options, duration: settings.durationSeconds });
  const unexpected = latencies.length - (statuses.get(expectStatus) ?? 0);
  latencies.sort((a, b) => a - b);
  // Kept (not written to results.json) for summaries that pool several runs, e.g. metrics on/off.
  rawLatencies.set(scenario.name, latencies);
  const round = (value, digits = 2) => (value === null ? null : Number(value.toFixed(digits)));
  return {
    name: scenario.name,
    method: options.method,
    path: prepared.path ?? scenario.path,
    connections: options.connections,
    expect_status: expectStatus,
    requests: result.requests.total,
    duration_s: round(result.duration, 3),
    req_per_s: round(result.requests.total / result.duration, 1),
    latency_ms: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? null),
    },
    non_2xx: result.non2xx,
    unexpected_status: unexpected,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

function printTable(rows) {
  const header = ["scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "non-2xx", "unexpected", "vs baseline"];
  const lines = rows.map((row) => [
    row.name,
    row.req_per_s.toFixed(1),
    String(row.latency_ms.p50 ?? "-"),
    String(row.latency_ms.p95 ?? "-"),
    String(row.latency_ms.p99 ?? "-"),
    String(row.non_2xx),
    String(row.unexpected_status + row.errors + row.timeouts),
    row.ratio_to_baseline === null ? "-" : `${(row.ratio_to_baseline * 100).toFixed(1)}%`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ");
  console.log(`\n${format(header)}\n${widths.map((width) => "─".repeat(width)).join("  ")}`);
  for (const line of lines) console.log(format(line));
}

console.log("• building the production bundle and starting Miniflare…");
// The production worker plus the benchmark's probe routes (/bench/*), never deployed. (Without the
// probe file, e.g. to measure an older commit with today's scenarios, the plain worker is served.)
const probe = existsSync(path.join(root, "bench", "probe-worker.ts"));
const server = await serveBundle({ vars: serverVars, ...(probe ? { entry: "bench/probe-worker.ts" } : {}) });
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
console.log(`• bundle ${kib(server.bundle.bytes)} (gzip ${kib(server.bundle.gzipBytes)}), serving on ${server.url}`);
console.log(
  `• ${scenarios.length} scenarios × (${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s) at ${settings.connections} connections`,
);

const rows = [];
try {
  for (const scenario of scenarios) {
    process.stdout.write(`  ${scenario.name}… `);
    const row = await runScenario(server, scenario);
    console.log(`${row.req_per_s.toFixed(1)} req/s`);
    rows.push(row);
  }
} catch (error) {
  console.error(`\n✗ ${error instanceof Error ? error.stack : error}`);
  for (const line of server.logTail()) console.error(`  worker: ${line}`);
  await server.dispose();
  process.exit(1);
}
await server.dispose();

const baseline = rows[0].req_per_s;
for (const row of rows) row.ratio_to_baseline = baseline > 0 ? Number((row.req_per_s / baseline).toFixed(3)) : null;
printTable(rows);
const metricsOverhead = summariseMetricsOverhead(rows);

/**
 * The metrics on/off scenarios (issue 14, target ≤ 5 %): each arm's latencies pooled over its
 * runs, the median of each and their ratio, and the ratio of throughput.
 */
function summariseMetricsOverhead(measured) {
  const arms = { on: [], off: [] };
  const throughput = { on: 0, off: 0 };
  for (const row of measured) {
    const arm = /\(metrics (on|off)\b/.exec(row.name)?.[1];
    if (!arm) continue;
    arms[arm].push(...(rawLatencies.get(row.name) ?? []));
    throughput[arm] += row.requests / row.duration_s;
  }
  if (arms.on.length === 0 || arms.off.length === 0) return null;
  const median = (values) => percentile([...values].sort((a, b) => a - b), 50);
  const summary = {
    median_ms_off: median(arms.off),
    median_ms_on: median(arms.on),
    requests_off: arms.off.length,
    requests_on: arms.on.length,
  };
  summary.median_ratio = Number((summary.median_ms_on / summary.median_ms_off).toFixed(3));
  summary.throughput_ratio = Number((throughput.on / throughput.off).toFixed(3));
  console.log(
    `\n• metrics overhead on GET /api/v1/users/me: median ${summary.median_ms_off} ms off, ${summary.median_ms_on} ms on ` +
      `(on/off ${summary.median_ratio}; throughput on/off ${summary.throughput_ratio}; ${summary.requests_off} + ${summary.requests_on} requests; target ≤ 1.05)`,
  );
  return summary;
}

const cpus = os.cpus();
const results = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? "unknown",
    memory_gib: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    load_average_1m: Number(os.loadavg()[0].toFixed(2)),
  },
  settings: { duration_s: settings.durationSeconds, warmup_s: settings.warmupSeconds, connections: settings.connections },
  bundle: { bytes: server.bundle.bytes, gzip_bytes: server.bundle.gzipBytes },
  baseline: rows[0].name,
  scenarios: rows,
  ...(metricsOverhead ? { metrics_overhead: metricsOverhead } : {}),
};
const resultsPath = path.join(root, "bench", "results.json");
writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\n• wrote ${path.relative(root, resultsPath)} (load average ${results.machine.load_average_1m} on ${cpus.length} CPUs)`);

const failed = rows.filter((row) => row.unexpected_status + row.errors + row.timeouts > 0);
if (failed.length > 0) {
  console.error(`✗ unexpected statuses or errors in: ${failed.map((row) => row.name).join(", ")}`);
  process.exit(1);
}
