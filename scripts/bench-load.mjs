// `npm run bench:load`: the service under load, against the production bundle served by Miniflare.
//
//   npm run bench:load [-- --load-seconds 60 --load-connections 1000 --soak-minutes 10 --soak-connections 64]
//
// 1. Runtime alone, at the load connection count, in the same local runtime (workerd through
//    Miniflare): a worker that only answers "ok", then a stand-in with none of this service's code
//    that costs about what /users/me costs (one Durable Object call, one D1 read, a few ms of CPU).
//    Socket errors here come from the local runtime and the loopback stack, not from this service.
// 2. GET /health, then GET /api/v1/users/me (signed in), each at the load connection count for the
//    load duration: req/s, p50/p99, socket errors, timeouts, 5xx.
// 3. A soak on a fresh server: GET /api/v1/users/me at the soak connection count for the soak
//    duration, sampling workerd's resident memory every 30 s (printed as it goes): a leak shows as
//    steady growth.
// Exits non-zero when the service itself (phase 2 or 3) had socket errors, timeouts or any answer
// other than 200. `--load-seconds 0` skips phases 1 and 2 (the soak alone).
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { serverVars, signIn } from "../bench/scenarios.mjs";
import { runAutocannon } from "./autocannon-run.mjs";
import { serveBundle } from "./serve-bundle.mjs";

const { values } = parseArgs({
  options: {
    "load-seconds": { type: "string", default: "60" },
    "load-connections": { type: "string", default: "1000" },
    "soak-minutes": { type: "string", default: "10" },
    "soak-connections": { type: "string", default: "64" },
    "sample-seconds": { type: "string", default: "30" },
  },
});
const number = (name) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
  return value;
};
const loadSeconds = number("load-seconds");
const loadConnections = Math.round(number("load-connections"));
const soakSeconds = number("soak-minutes") * 60;
const soakConnections = Math.round(number("soak-connections"));
const sampleSeconds = number("sample-seconds");

/** workerd processes started by this process (Miniflare's children), on Linux. */
function workerdPids() {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm === "workerd" && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Runs autocannon and summarises what a user would feel. */
async function load(name, options) {
  const { result, statuses, errorCodes } = await runAutocannon({ timeout: 30, ...options });
  const fivexx = [...statuses].filter(([status]) => status >= 500).reduce((sum, [, count]) => sum + count, 0);
  const row = {
    name,
    connections: options.connections,
    seconds: Number(result.duration.toFixed(1)),
    req_per_s: Number((result.requests.total / result.duration).toFixed(1)),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    socket_errors: result.errors,
    timeouts: result.timeouts,
    "5xx": fivexx,
    statuses: Object.fromEntries(statuses),
    error_codes: Object.fromEntries(errorCodes),
  };
  console.log(
    `  ${name}: ${row.req_per_s} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, max ${row.max_ms} ms, ` +
      `socket errors ${row.socket_errors} ${JSON.stringify(row.error_codes)}, timeouts ${row.timeouts}, 5xx ${row["5xx"]}, statuses ${JSON.stringify(row.statuses)}`,
  );
  return row;
}

console.log(`• load ${loadSeconds} s at ${loadConnections} connections; soak ${soakSeconds / 60} min at ${soakConnections}; load average ${os.loadavg()[0].toFixed(2)}`);

// 1. The local runtime alone.
const STAND_IN = `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject { n = 0; hit() { return ++this.n; } }
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/") return new Response("ok");
    const end = Date.now() + 4;
    while (Date.now() < end) {}
    await env.COUNTER.get(env.COUNTER.idFromName("one")).hit();
    await env.DB.prepare("select 1").first();
    return new Response("ok");
  },
};`;
// A new account on each server: every server has its own database and signing keys.
const signedIn = async (server) => (await signIn({ url: server.url, vars: server.vars, request: (requestPath, init) => fetch(`${server.url}${requestPath}`, init) })).headers;
const runtimeRows = [];
/** The service's rows: every answer must be a 200. */
const rows = [];
if (loadSeconds > 0) {
  const bare = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    modules: true,
    script: STAND_IN,
    compatibilityDate: "2026-04-01",
    d1Databases: { DB: "stand-in" },
    durableObjects: { COUNTER: { className: "Counter", useSQLite: true } },
  });
  const bareUrl = (await bare.ready).toString().replace(/\/$/, "");
  console.log("• the local runtime alone: a worker answering \"ok\", then a stand-in costing about what /users/me costs (a Durable Object call, a D1 read, 4 ms of CPU), none of this service's code");
  runtimeRows.push(await load("runtime only: GET /", { url: `${bareUrl}/`, connections: loadConnections, duration: loadSeconds }));
  runtimeRows.push(await load("runtime only: stand-in", { url: `${bareUrl}/stand-in`, connections: loadConnections, duration: loadSeconds }));
  await bare.dispose();

  // 2. The service at the load connection count.
  const server = await serveBundle({ vars: serverVars });
  try {
    const headers = await signedIn(server);
    console.log("• the service");
    rows.push(await load("GET /health", { url: `${server.url}/health`, connections: loadConnections, duration: loadSeconds }));
    rows.push(await load("GET /api/v1/users/me", { url: `${server.url}/api/v1/users/me`, headers, connections: loadConnections, duration: loadSeconds }));
  } finally {
    await server.dispose();
  }
}

// 3. The soak, on a server of its own: requests the load phase left queued (their clients gone)
//    would otherwise still be running in its first minutes.
if (soakSeconds > 0) {
  const soakServer = await serveBundle({ vars: serverVars });
  try {
    const headers = await signedIn(soakServer);
    const pid = workerdPids()[0];
    console.log(`• soak on a fresh server: GET /api/v1/users/me, workerd pid ${pid ?? "unknown"}, resident memory every ${sampleSeconds} s`);
    const samples = [];
    const sample = (elapsed) => {
      const mib = pid === undefined ? Number.NaN : rssMiB(pid);
      samples.push({ elapsed_s: elapsed, rss_mib: Number(mib.toFixed(1)) });
      console.log(`    t=${String(elapsed).padStart(4)} s  workerd RSS ${mib.toFixed(1)} MiB`);
    };
    sample(0);
    const started = Date.now();
    const timer = setInterval(() => sample(Math.round((Date.now() - started) / 1000)), sampleSeconds * 1000);
    const soak = await load("soak GET /api/v1/users/me", { url: `${soakServer.url}/api/v1/users/me`, headers, connections: soakConnections, duration: soakSeconds });
    clearInterval(timer);
    sample(Math.round((Date.now() - started) / 1000));
    rows.push({ ...soak, memory: samples });
    const first = samples[1] ?? samples[0];
    const last = samples.at(-1);
    console.log(`  memory: ${first.rss_mib} MiB after the first sample → ${last.rss_mib} MiB at the end`);
  } finally {
    await soakServer.dispose();
  }
}
// Every answer of the service must be a 200: a 401 (say, a token from another server) is a failure too.
const unexpected = (row) => Object.entries(row.statuses).reduce((sum, [status, count]) => sum + (status === "200" ? 0 : count), 0);
const failed = rows.some((row) => row.socket_errors + row.timeouts + unexpected(row) > 0);
console.log(JSON.stringify({ date: new Date().toISOString(), load_average_1m: os.loadavg()[0], rows: [...runtimeRows, ...rows].map(({ memory, ...row }) => row) }));
for (const row of runtimeRows) {
  if (row.socket_errors + row.timeouts > 0) {
    console.log(`• ${row.name} had ${row.socket_errors} socket errors and ${row.timeouts} timeouts: at this load the local runtime itself drops connections, without any of this service's code`);
  }
}
if (failed) {
  console.error("✗ the service had socket errors, timeouts or answers other than 200");
  process.exit(1);
}
