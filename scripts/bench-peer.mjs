// `npm run bench:peer`: our GET /api/v1/users/me against better-auth's GET /api/auth/get-session,
// side by side on this machine. Both run as production bundles under the Miniflare API with a local
// D1; each is driven by autocannon at the same connections, alternating ours, peer, peer, ours (so
// drift in the machine's load cancels), and the pooled req/s and median latencies are compared.
//
// The peer lives in bench/peer-better-auth/ (its own package.json and lockfile, installed here on
// first use, never part of the product's dependencies).
//
// Environment: BENCH_DURATION (seconds per run, default 10), BENCH_WARMUP (default 3),
// BENCH_CONNECTIONS (default 64, as the figures), BENCH_ROUNDS (ABBA rounds, default 2).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { serverVars, signIn } from "../bench/scenarios.mjs";
import { runAutocannon } from "./autocannon-run.mjs";
import { offlineEnv, root, run } from "./lib.mjs";
import { randomSecret } from "./keys.mjs";
import { buildBundle, serveBundle } from "./serve-bundle.mjs";

const peerDirectory = path.join(root, "bench", "peer-better-auth");
const number = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const settings = {
  durationSeconds: number("BENCH_DURATION", 10),
  warmupSeconds: number("BENCH_WARMUP", 3),
  connections: number("BENCH_CONNECTIONS", 64),
  rounds: number("BENCH_ROUNDS", 2),
};

const peerVersion = () => JSON.parse(readFileSync(path.join(peerDirectory, "node_modules", "better-auth", "package.json"), "utf8")).version;

/** better-auth under Miniflare with its tables created and one signed-up user; returns its cookie. */
async function servePeer(scratch) {
  if (!existsSync(path.join(peerDirectory, "node_modules", "better-auth"))) {
    console.log("• installing the peer (bench/peer-better-auth, npm ci)…");
    run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: peerDirectory });
  }
  const outdir = path.join(scratch, "peer");
  const built = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "-c", path.join(peerDirectory, "wrangler.toml")], { cwd: root, env: offlineEnv, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`building the peer failed:\n${built.stdout}${built.stderr}`);
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    // One self-contained file; listed explicitly because Miniflare's import scanner refuses the
    // bundle's non-literal dynamic import() calls (database dialects it never takes).
    modules: [{ type: "ESModule", path: path.join(outdir, "worker.js") }],
    modulesRoot: outdir,
    compatibilityDate: "2026-04-01",
    compatibilityFlags: ["nodejs_compat"],
    bindings: { BETTER_AUTH_SECRET: randomSecret(32), BETTER_AUTH_URL: "http://127.0.0.1" },
    d1Databases: { DB: "peer" },
    d1Persist: path.join(scratch, "peer-d1"),
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const migrated = await fetch(`${url}/peer/migrate`, { method: "POST" });
  if (!migrated.ok) throw new Error(`peer migration answered ${migrated.status}: ${await migrated.text()}`);
  const signUp = await fetch(`${url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: "http://127.0.0.1" },
    body: JSON.stringify({ email: `bench-${Date.now()}@example.com`, password: "bench password that is long enough 42", name: "Bench User" }),
  });
  if (signUp.status !== 200) throw new Error(`peer sign-up answered ${signUp.status}: ${await signUp.text()}`);
  const cookie = signUp.headers.getSetCookie().map((value) => value.split(";")[0]).join("; ");
  const session = await fetch(`${url}/api/auth/get-session`, { headers: { cookie } });
  const body = await session.json();
  if (session.status !== 200 || !body?.user) throw new Error(`peer get-session answered ${session.status}: ${JSON.stringify(body)}`);
  return { url, headers: { cookie }, dispose: () => mf.dispose() };
}

async function drive(url, headers, duration) {
  return (await runAutocannon({ url, headers, connections: settings.connections, duration })).result;
}

async function measure(target) {
  await drive(target.url, target.headers, settings.warmupSeconds);
  const result = await drive(target.url, target.headers, settings.durationSeconds);
  const row = {
    name: target.name,
    req_per_s: Number((result.requests.total / (result.duration || settings.durationSeconds)).toFixed(1)),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
  console.log(`  ${row.name}: ${row.req_per_s} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, non-2xx ${row.non_2xx}, errors ${row.errors}`);
  return row;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

const scratch = mkdtempSync(path.join(os.tmpdir(), "edge-auth-peer-"));
console.log("• building both bundles and starting Miniflare…");
const ours = await serveBundle({ vars: serverVars, outdir: path.join(scratch, "ours") });
let peer;
try {
  peer = await servePeer(scratch);
  const signedIn = await signIn({ request: (requestPath, init) => fetch(`${ours.url}${requestPath}`, init) });
  const targets = {
    ours: { name: "ours: GET /api/v1/users/me", url: `${ours.url}/api/v1/users/me`, headers: signedIn.headers },
    peer: { name: `better-auth ${peerVersion()}: GET /api/auth/get-session`, url: `${peer.url}/api/auth/get-session`, headers: peer.headers },
  };
  console.log(`• ${settings.rounds} × (ours, peer, peer, ours) at ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s each`);
  const rows = { ours: [], peer: [] };
  for (let round = 0; round < settings.rounds; round++) {
    for (const side of ["ours", "peer", "peer", "ours"]) rows[side].push(await measure(targets[side]));
  }
  const pooled = (side) => ({
    req_per_s: Number((rows[side].reduce((sum, row) => sum + row.req_per_s, 0) / rows[side].length).toFixed(1)),
    p50_ms: median(rows[side].map((row) => row.p50_ms)),
  });
  const summary = { ours: pooled("ours"), peer: pooled("peer") };
  const ratio = Number((summary.ours.req_per_s / summary.peer.req_per_s).toFixed(2));
  console.log(`\n• ours ${summary.ours.req_per_s} req/s (p50 ${summary.ours.p50_ms} ms) vs better-auth ${summary.peer.req_per_s} req/s (p50 ${summary.peer.p50_ms} ms): ours ${ratio}× (goal ≥ 1.3×)`);
  writeFileSync(
    path.join(root, "bench", "peer-results.json"),
    `${JSON.stringify({ date: new Date().toISOString(), load_average: os.loadavg()[0], settings, runs: rows, summary, ratio }, null, 2)}\n`,
  );
  const failed = [...rows.ours, ...rows.peer].filter((row) => row.non_2xx + row.errors > 0);
  if (failed.length > 0) {
    console.error(`✗ non-2xx answers or socket errors in ${failed.length} run(s)`);
    process.exitCode = 1;
  }
} finally {
  await peer?.dispose();
  await ours.dispose();
  rmSync(scratch, { recursive: true, force: true });
}
