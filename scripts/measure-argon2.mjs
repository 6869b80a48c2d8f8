#!/usr/bin/env node
// Measures what one argon2id hash costs INSIDE workerd (the runtime of Cloudflare Workers), at the
// service's default (m=32768 KiB, t=2, p=1; OWASP's minimum is m=19456, t=2), using
// src/lib/password.ts itself and the WebAssembly module it imports.
//
//   npm run bench:argon2 [-- --runs 10 --m 32768 --t 2 --p 1 --noble]
//
// A tiny worker that imports the real module is bundled with esbuild and run with Miniflare. Each
// request performs exactly one operation; the operations are measured round-robin:
// - hash: hashPassword (what register, reset and a rehash cost),
// - verify: verifyPassword of the right password (what a login costs),
// - dummy: verifyAgainstDummy (what a login with an unknown email costs: it must match verify),
// - noble: the pure-JavaScript argon2id of @noble/hashes on the same inputs (the hasher used before
//   the WebAssembly one; what the WebAssembly build saves),
// - noop: an empty request (the dispatch overhead included in every round trip).
// Three measures are reported. "workerd CPU" is the CPU time workerd's threads ran during the
// request (Linux /proc schedstat), the closest local equivalent of a Worker's billed CPU time and
// the steadiest on a busy machine. "round trip" is performance.now() in Node around dispatchFetch;
// "in worker" is Date.now() around the awaited operation inside the worker. Local workerd lets
// Date.now() advance during computation; production Workers do not (the clock moves only on I/O),
// so there the in-worker clock would read about 0 and only the round trip (or the CPU-time metric
// of the dashboard) tells the cost.
// The numbers are per request on this machine (2 cores, shared): the load average is printed
// with them; production CPUs differ, so treat them as an order of magnitude.
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const root = path.join(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    m: { type: "string", default: "32768" },
    t: { type: "string", default: "2" },
    p: { type: "string", default: "1" },
    // Also time the pure-JavaScript hasher (slow: about 8x the WebAssembly one).
    noble: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const params = { memoryKib: Number(values.m), iterations: Number(values.t), parallelism: Number(values.p) };

// The worker: one operation per request, timed with the worker's own clock as well.
const workerSource = `
import { argon2id } from "@noble/hashes/argon2.js";
import { hashPassword, verifyPassword, verifyAgainstDummy } from "./src/lib/password.ts";

const params = ${JSON.stringify(params)};
const password = "correct horse battery staple";
let stored;

export default {
  async fetch(request) {
    const op = new URL(request.url).pathname.slice(1);
    stored ??= await hashPassword(password, params);
    const started = Date.now();
    if (op === "hash") await hashPassword(password, params);
    else if (op === "verify") {
      const result = await verifyPassword(password, stored, params);
      if (!result.ok) throw new Error("verification failed");
    } else if (op === "dummy") await verifyAgainstDummy(password, params);
    else if (op === "noble") {
      // The pure-JavaScript hasher used before, on the same inputs: what the WebAssembly build saves.
      argon2id(new TextEncoder().encode(password), crypto.getRandomValues(new Uint8Array(16)), {
        m: params.memoryKib, t: params.iterations, p: params.parallelism, dkLen: 32,
      });
    } else if (op !== "noop") return new Response("unknown operation", { status: 404 });
    return Response.json({ inWorkerMs: Date.now() - started });
  },
};
`;

// The .wasm stays a separate module, as wrangler ships it (CompiledWasm): workerd refuses to
// compile WebAssembly from bytes at run time.
const wasmPath = path.join(root, "node_modules/@phi-ag/argon2/dist/argon2.wasm");
const wasmExternal = {
  name: "wasm-external",
  setup(builder) {
    builder.onResolve({ filter: /\.wasm$/ }, () => ({ path: "./argon2.wasm", external: true }));
  },
};

const bundle = await build({
  plugins: [wasmExternal],
  stdin: { contents: workerSource, resolveDir: root, sourcefile: "measure-argon2-worker.js", loader: "js" },
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker", "import"],
  write: false,
  minify: true,
});
const script = bundle.outputFiles[0].text;

const mf = new Miniflare({
  modules: [
    { type: "ESModule", path: path.join(root, "measure-argon2-worker.js"), contents: script },
    { type: "CompiledWasm", path: path.join(root, "argon2.wasm"), contents: readFileSync(wasmPath) },
  ],
  modulesRoot: root,
  compatibilityDate: "2026-04-01",
  compatibilityFlags: ["nodejs_compat"],
});

function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { median: at(0.5), p95: at(0.95), min: sorted[0], max: sorted.at(-1) };
}

const fmt = (n) => n.toFixed(1).padStart(7);

/** The workerd process Miniflare started (a child of this one), on Linux; otherwise undefined. */
function findWorkerdPid() {
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (comm === "workerd" && ppid === process.pid) return Number(entry);
      } catch {
        // The process ended while we looked.
      }
    }
  } catch {
    // No /proc: not Linux.
  }
  return undefined;
}

/**
 * CPU time (ns) that workerd's threads have run, from the scheduler's per-thread statistics.
 * Unlike wall time it barely moves when other programs compete for the cores, which on a
 * shared machine makes it the steadier measure of what one request costs.
 */
function cpuNs(pid) {
  if (pid === undefined) return Number.NaN;
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended while we looked.
    }
  }
  return total;
}

let workerdPid;

async function once(op) {
  const cpuBefore = cpuNs(workerdPid);
  const started = performance.now();
  const response = await mf.dispatchFetch(`http://bench/${op}`);
  const body = await response.json();
  const roundTripMs = performance.now() - started;
  const cpuMs = (cpuNs(workerdPid) - cpuBefore) / 1e6;
  if (!response.ok) throw new Error(`${op}: HTTP ${response.status}`);
  return { roundTripMs, inWorkerMs: body.inWorkerMs, cpuMs };
}

/**
 * Round-robin over the operations, so that a burst of load from elsewhere on the machine
 * affects every operation alike instead of whichever happened to run at that moment.
 */
async function measure(ops) {
  const samples = Object.fromEntries(ops.map((op) => [op, { roundTrip: [], inWorker: [], cpu: [] }]));
  // One unmeasured request per operation warms the isolate (module evaluation, the stored hash, JIT).
  for (const op of ops) await once(op);
  for (let i = 0; i < runs; i++) {
    for (const op of ops) {
      const { roundTripMs, inWorkerMs, cpuMs } = await once(op);
      samples[op].roundTrip.push(roundTripMs);
      samples[op].inWorker.push(inWorkerMs);
      samples[op].cpu.push(cpuMs);
    }
  }
  return ops.map((op) => ({
    op,
    cpu: summarize(samples[op].cpu),
    roundTrip: summarize(samples[op].roundTrip),
    inWorker: summarize(samples[op].inWorker),
  }));
}

try {
  await mf.ready;
  workerdPid = findWorkerdPid();
  console.log(
    `argon2id m=${params.memoryKib} KiB, t=${params.iterations}, p=${params.parallelism}; ` +
      `${runs} runs per operation, one operation per request, workerd via Miniflare; node ${process.version}`,
  );
  console.log(`load average before: ${loadavg().map((load) => load.toFixed(2)).join(" ")}`);
  console.log(`worker bundle: ${(script.length / 1024).toFixed(1)} KiB minified`);
  if (workerdPid === undefined) console.log("workerd CPU time: not available (needs Linux /proc)");
  console.log("            workerd CPU ms        | round trip ms (wall)  | in worker ms (Date.now)");
  console.log("operation    median     p95     min |  median     p95     min |  median     p95");
  for (const { op, cpu: c, roundTrip: r, inWorker: w } of await measure(["noop", "hash", "verify", "dummy", ...(values.noble ? ["noble"] : [])])) {
    console.log(
      `${op.padEnd(9)}${fmt(c.median)} ${fmt(c.p95)} ${fmt(c.min)} | ${fmt(r.median)} ${fmt(r.p95)} ${fmt(r.min)} | ${fmt(w.median)} ${fmt(w.p95)}`,
    );
  }
} finally {
  await mf.dispose();
}
