// `npm run bench:load`: the service under load, against the production bundle served by Miniflare.
//
//   npm run bench:load [-- --load-seconds 60 --load-connections 1000 --stall-seconds 60
//                         --soak-minutes 10 --soak-connections 64]
//
// Every phase of the service runs beside a control: the stand-in worker (bench/stand-in-worker.ts,
// none of this service's code, served exactly as the service is) under the same load. What the
// control suffers too is the local runtime's doing; what only the service suffers is ours.
// 1. Load: at the load connection count for the load duration, the stand-in's GET / and
//    GET /stand-in?write-every=100 (a Durable Object call, a D1 read, 4 ms of CPU, and one SQLite
//    write in the object per 100 calls), then the service's GET /health and GET /api/v1/users/me.
// 2. Stalls at the soak connection count, a 2×2: the stand-in without and with the object writes,
//    the service's /users/me without the per-user limiter (bench/probe-worker.ts) and with it (one
//    lease refill, an object write, per 100 requests). While each runs, a new connection asks for
//    /health every 2 s: how long a newcomer waits is printed.
// 3. Login at 8 connections (CPU-bound: one argon2id hash each), a 2×2 again: the stand-in's hash
//    twin (60 ms of CPU) and login twin (the same, three object calls that write, a D1 batch), the
//    service's raw hash (GET /bench/hash) and its login. Each pair's ratio is the login's
//    throughput against the hash's (the goal: at least 0.8).
// 4. A soak on a fresh server: GET /api/v1/users/me at the soak connection count for the soak
//    duration, sampling workerd's resident memory every 30 s (printed as it goes): a leak shows as
//    steady growth.
// Exits non-zero when any answer of the service was not a 200, or when a service row had socket
// errors or timeouts while its control (same load, same object writes, none of our code) had none.
// `--load-seconds 0`, `--stall-seconds 0` and `--login-seconds 0` skip phases 1, 2 and 3.
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { parseArgs } from "node:util";
import { createAccount, serverVars, signIn } from "../bench/scenarios.mjs";
import { runAutocannon } from "./autocannon-run.mjs";
import { serveBundle } from "./serve-bundle.mjs";

const { values } = parseArgs({
  options: {
    "load-seconds": { type: "string", default: "60" },
    "load-connections": { type: "string", default: "1000" },
    "stall-seconds": { type: "string", default: "60" },
    "login-seconds": { type: "string", default: "30" },
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
const stallSeconds = number("stall-seconds");
const loginSeconds = number("login-seconds");
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

/** workerd's resident memory in MiB; NaN once the process is gone. */
function rssMiB(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Time (ms) until a request on a NEW connection is answered, or the error it got. */
function newcomer(url) {
  const started = Date.now();
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 60_000 }, (response) => {
      response.resume();
      response.on("end", () => resolve(Date.now() - started));
    });
    request.on("timeout", () => request.destroy(new Error("no answer in 60 s")));
    request.on("error", () => resolve(Number.POSITIVE_INFINITY));
  });
}

/**
 * Runs autocannon and summarises what a user would feel. With `newcomerUrl`, a new connection
 * asks for it every 2 s meanwhile, and the row reports how long those newcomers waited.
 */
async function load(name, { newcomerUrl, ...options }) {
  const newcomers = [];
  const timer = newcomerUrl ? setInterval(() => newcomers.push(newcomer(newcomerUrl)), 2_000) : undefined;
  // The load runs in a worker thread: this thread drains workerd's stdout (one JSON log line per
  // request at info), and while it also ran the 1,000 connections, the log pipe backed up and
  // workerd stalled on it (GET /health: 953 socket errors in 40 s, 0 with LOG_LEVEL=warn, 120 with
  // the load in a worker thread).
  const { result, statuses, errorCodes } = await runAutocannon({ timeout: 30, workers: 1, ...options });
  clearInterval(timer);
  const waits = (await Promise.all(newcomers)).sort((a, b) => a - b);
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
    ...(newcomerUrl ? { newcomer_wait_ms: { median: waits[Math.floor(waits.length / 2)] ?? null, max: waits.at(-1) ?? null, over_10s: waits.filter((wait) => wait > 10_000).length, of: waits.length } } : {}),
  };
  const waited = row.newcomer_wait_ms ? `; a new connection waited median ${row.newcomer_wait_ms.median} ms, max ${row.newcomer_wait_ms.max} ms, over 10 s ${row.newcomer_wait_ms.over_10s}/${row.newcomer_wait_ms.of}` : "";
  console.log(
    `  ${name}: ${row.req_per_s} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, max ${row.max_ms} ms, ` +
      `socket errors ${row.socket_errors} ${JSON.stringify(row.error_codes)} (timeouts ${row.timeouts} among them), 5xx ${row["5xx"]}, statuses ${JSON.stringify(row.statuses)}${waited}`,
  );
  return row;
}

console.log(`• load ${loadSeconds} s at ${loadConnections} connections; soak ${soakSeconds / 60} min at ${soakConnections}; load average ${os.loadavg()[0].toFixed(2)}`);

// A new account on each server: every server has its own database and signing keys.
const signedIn = async (server) => (await signIn({ url: server.url, vars: server.vars, request: (requestPath, init) => fetch(`${server.url}${requestPath}`, init) })).headers;
/** The service's rows, each with the name of its control row: every answer must be a 200. */
const rows = [];
const controls = new Map();
const WRITES = "write-every=100";

/** Runs `phase` against a freshly served bundle of `entry` (undefined: the production worker). */
async function withServer(entry, phase) {
  const server = await serveBundle({ vars: serverVars, entry });
  try {
    return await phase(server);
  } finally {
    await server.dispose();
  }
}

// 1. Load at the load connection count.
if (loadSeconds > 0) {
  const at = { connections: loadConnections, duration: loadSeconds };
  console.log(`• load: the stand-in (none of this service's code), then the service, ${loadConnections} connections`);
  await withServer("bench/stand-in-worker.ts", async ({ url }) => {
    controls.set("load /", await load("stand-in GET /", { url: `${url}/`, ...at }));
    controls.set("load stand-in", await load(`stand-in GET /stand-in?${WRITES}`, { url: `${url}/stand-in?${WRITES}`, ...at }));
  });
  await withServer(undefined, async (server) => {
    const headers = await signedIn(server);
    rows.push({ ...(await load("GET /health", { url: `${server.url}/health`, ...at })), control: "load /" });
    rows.push({ ...(await load("GET /api/v1/users/me", { url: `${server.url}/api/v1/users/me`, headers, ...at })), control: "load stand-in" });
  });
}

// 2. Stalls at the soak connection count: object writes or not, stand-in or service.
if (stallSeconds > 0) {
  const at = { connections: soakConnections, duration: stallSeconds };
  console.log(`• stalls at ${soakConnections} connections, with and without a Durable Object write per 100 requests; a new connection asks for /health every 2 s`);
  await withServer("bench/stand-in-worker.ts", async ({ url }) => {
    controls.set("stall none", await load("stand-in GET /stand-in", { url: `${url}/stand-in`, newcomerUrl: `${url}/health`, ...at }));
    controls.set("stall writes", await load(`stand-in GET /stand-in?${WRITES}`, { url: `${url}/stand-in?${WRITES}`, newcomerUrl: `${url}/health`, ...at }));
  });
  await withServer("bench/probe-worker.ts", async (server) => {
    const headers = await signedIn(server);
    const newcomerUrl = `${server.url}/health`;
    rows.push({ ...(await load("GET /bench/users/me-unlimited", { url: `${server.url}/bench/users/me-unlimited`, headers, newcomerUrl, ...at })), control: "stall none" });
    rows.push({ ...(await load("GET /api/v1/users/me", { url: `${server.url}/api/v1/users/me`, headers, newcomerUrl, ...at })), control: "stall writes" });
  });
}

// 3. Login at 8 connections: what the hash costs, and what a login adds to it.
if (loginSeconds > 0) {
  const at = { connections: 8, duration: loginSeconds, timeout: 10 };
  const HASH = "cpu=60&calls=0";
  const LOGIN = "cpu=60&calls=3&write-every=1&d1-writes=2";
  console.log("• login at 8 connections: the stand-in's hash and login twins, then the service's raw hash and login");
  const twins = await withServer("bench/stand-in-worker.ts", async ({ url }) => {
    const hash = await load(`stand-in GET /stand-in?${HASH}`, { url: `${url}/stand-in?${HASH}`, ...at });
    const login = await load(`stand-in GET /stand-in?${LOGIN}`, { url: `${url}/stand-in?${LOGIN}`, ...at });
    controls.set("login hash", hash);
    controls.set("login", login);
    return { hash, login };
  });
  const ours = await withServer("bench/probe-worker.ts", async (server) => {
    const request = (requestPath, init) => fetch(`${server.url}${requestPath}`, init);
    const account = await createAccount({ request });
    const hash = await load("GET /bench/hash", { url: `${server.url}/bench/hash`, ...at });
    const login = await load("POST /api/v1/auth/login", {
      url: `${server.url}/api/v1/auth/login`,
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(account),
      ...at,
    });
    rows.push({ ...hash, control: "login hash" }, { ...login, control: "login" });
    return { hash, login };
  });
  const ratio = ({ hash, login }) => (login.req_per_s / hash.req_per_s).toFixed(2);
  console.log(`  login ÷ hash: the service ${ratio(ours)} (goal ≥ 0.8), the stand-in ${ratio(twins)}`);
}

// 4. The soak, on a server of its own: requests the load phase left queued (their clients gone)
//    would otherwise still be running in its first minutes.
if (soakSeconds > 0) {
  // An earlier phase's workerd may still be exiting: the soak's is the one that was not there before.
  const earlier = new Set(workerdPids());
  await withServer(undefined, async (soakServer) => {
    const headers = await signedIn(soakServer);
    const pid = workerdPids().find((candidate) => !earlier.has(candidate));
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
    rows.push({ ...soak, memory: samples, control: "stall writes" });
    const first = samples[1] ?? samples[0];
    const last = samples.at(-1);
    console.log(`  memory: ${first.rss_mib} MiB after the first sample → ${last.rss_mib} MiB at the end`);
  });
}
// Every answer of the service must be a 200: a 401 (say, a token from another server) is a failure
// too. Socket errors and timeouts count against the service only when its control had none.
const unexpected = (row) => Object.entries(row.statuses).reduce((sum, [status, count]) => sum + (status === "200" ? 0 : count), 0);
// autocannon counts a timeout among the socket errors too.
const dropped = (row) => row.socket_errors;
const answered = (row) => Object.values(row.statuses).reduce((sum, count) => sum + count, 0);
const perTenThousand = (row) => ((dropped(row) / Math.max(1, answered(row) + dropped(row))) * 10_000).toFixed(1);
const failures = [];
for (const row of rows) {
  const control = controls.get(row.control);
  if (unexpected(row) > 0) failures.push(`${row.name}: ${unexpected(row)} answers other than 200`);
  if (dropped(row) === 0) continue;
  if (control && dropped(control) > 0) {
    console.log(
      `• ${row.name}: ${dropped(row)} socket errors (timeouts included), ${perTenThousand(row)} per 10,000 requests; its control "${control.name}" ` +
        `(none of our code) had ${dropped(control)}, ${perTenThousand(control)} per 10,000, under the same load: the local runtime`,
    );
  } else {
    failures.push(`${row.name}: ${dropped(row)} socket errors (timeouts included)${control ? `, while "${control.name}" had none` : ", and no control ran"}`);
  }
}
console.log(JSON.stringify({ date: new Date().toISOString(), load_average_1m: os.loadavg()[0], controls: [...controls.values()], rows: rows.map(({ memory, ...row }) => row) }));
if (failures.length > 0) {
  for (const failure of failures) console.error(`✗ ${failure}`);
  process.exit(1);
}
console.log("✓ every answer a 200; no socket error or timeout that the control did not have too");
