// Builds the production bundle (`wrangler deploy --dry-run`) and serves it with the Miniflare API on
// loopback, with every binding from wrangler.toml backed by a throw-away temp directory. Used by the
// benchmark and the OpenAPI lint: they must see the code that ships, not `wrangler dev`, whose proxy
// and per-request logging make it several times slower and add behaviour production does not have.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { copySwaggerAssets, offlineEnv, root } from "./lib.mjs";
import { buildPageVendor } from "./page-vendor.mjs";
import { newMfaEncryptionKey, newSigningKey, randomSecret } from "./keys.mjs";

/**
 * Builds the worker into `outdir` with wrangler's own bundler (the exact bytes `wrangler deploy`
 * would upload) and returns the entry module's path and sizes.
 */
export function buildBundle(outdir, entryPoint) {
  // `--env=""` targets the top-level environment explicitly (silences wrangler's multi-env warning).
  // `entryPoint` replaces wrangler.toml's `main` (the benchmark's probe worker wraps the real one).
  const result = spawnSync("npx", ["wrangler", "deploy", ...(entryPoint ? [entryPoint] : []), "--dry-run", "--env=", "--outdir", outdir], {
    cwd: root,
    env: offlineEnv,
    encoding: "utf8",
  });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}`);
    throw new Error(`wrangler deploy --dry-run failed (exit ${result.status ?? result.signal})`);
  }
  // Named after the entry point: index.js for src/index.ts.
  const entry = path.join(outdir, readdirSync(outdir).find((name) => name.endsWith(".js")) ?? "index.js");
  const code = readFileSync(entry);
  return { entry, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

/** Every drizzle/*.sql migration in name order, split into single statements. */
export function readMigrations(directory = path.join(root, "drizzle")) {
  return readdirSync(directory)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => ({
      name,
      statements: readFileSync(path.join(directory, name), "utf8")
        .split("--> statement-breakpoint")
        .map((statement) => statement.trim())
        .filter((statement) => statement.length > 0),
    }));
}

/** Durable Object classes declared SQLite-backed by wrangler.toml's [[migrations]]. */
function sqliteClasses(config) {
  const classes = new Set();
  for (const migration of config.migrations ?? []) {
    for (const name of migration.new_sqlite_classes ?? []) classes.add(name);
    for (const name of migration.deleted_classes ?? []) classes.delete(name);
  }
  return classes;
}

/**
 * Secrets a run needs, fresh each time and never written to disk. Argon2 stays on its production
 * defaults (OWASP parameters): a benchmark of cheap hashing would measure the wrong thing.
 */
function generatedSecrets() {
  return {
    JWT_SIGNING_KEYS: JSON.stringify([newSigningKey()]),
    FILE_LINK_SECRET: randomSecret(32),
    API_KEY_SECRET: randomSecret(32),
    RATE_LIMIT_SECRET: randomSecret(32),
    MFA_ENCRYPTION_KEYS: JSON.stringify([newMfaEncryptionKey()]),
    BOOTSTRAP_ADMIN_EMAIL: "admin@example.com",
    BOOTSTRAP_ADMIN_PASSWORD: randomSecret(18),
  };
}

/** Keeps the worker's log lines out of the terminal (the last few stderr lines stay readable). */
function stdioHandler(inherit, tail) {
  return (stdout, stderr) => {
    if (inherit) {
      stdout.pipe(process.stdout);
      stderr.pipe(process.stderr);
      return;
    }
    stdout.resume();
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk) => {
      tail.push(...chunk.split("\n").filter((line) => line.trim() !== ""));
      tail.splice(0, Math.max(0, tail.length - 20));
    });
  };
}

/**
 * Builds and serves the production bundle on 127.0.0.1 with D1, R2, the Durable Objects and the
 * ASSETS binding from wrangler.toml, applies every migration, and returns the base URL.
 *
 * Variables are wrangler.toml's top-level [vars], then freshly generated secrets, then `vars`.
 * Set SERVE_BUNDLE_LOGS=1 to see the worker's own log lines.
 *
 * @example
 * const { url, dispose } = await serveBundle({ vars: { PUBLIC_BASE_URL: "http://localhost:8787" } });
 * const response = await fetch(`${url}/health`);
 * await dispose();
 */
export async function serveBundle({ vars = {}, port = 0, outdir, entry } = {}) {
  const scratch = mkdtempSync(path.join(tmpdir(), "edge-auth-serve-"));
  let mf;
  let disposal;
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  // One disposal, however many callers: a failing start and a signal may both ask for it.
  const dispose = () =>
    (disposal ??= (async () => {
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal).off("exit", removeScratch);
      try {
        await mf?.dispose();
      } finally {
        removeScratch();
      }
    })());
  // Ctrl-C must not leave workerd or the temp directory behind. Once Miniflare runs, its own exit
  // hook stops workerd and exits synchronously, so the directory goes in an "exit" listener.
  function onSignal(signal) {
    void dispose().finally(() => process.kill(process.pid, signal));
  }
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal).once("exit", removeScratch);

  try {
    return await start({ scratch, vars, port, outdir, entry, dispose, setMiniflare: (instance) => (mf = instance) });
  } catch (error) {
    await dispose().catch(() => {});
    throw error;
  }
}

async function start({ scratch, vars, port, outdir, entry, dispose, setMiniflare }) {
  const bundle = buildBundle(outdir ?? path.join(scratch, "dist"), entry);
  const config = unstable_readConfig({ config: path.join(root, "wrangler.toml") }, { hideWarnings: true });
  copySwaggerAssets();
  buildPageVendor();

  const bindings = { ...config.vars, ...generatedSecrets(), ...vars };
  const sqlite = sqliteClasses(config);
  const logTail = [];
  const assetsDirectory = path.resolve(root, config.assets.directory);
  const persist = path.join(scratch, "state");

  const mf = setMiniflare(new Miniflare({
    host: "127.0.0.1",
    port,
    modules: true,
    scriptPath: bundle.entry,
    // Module names are relative to this root; the bundle lives outside the working directory.
    modulesRoot: path.dirname(bundle.entry),
    // wrangler writes the argon2 .wasm and the common-password .txt beside index.js; workerd loads
    // them as wrangler's default rules do in production (precompiled WebAssembly, a Text string).
    modulesRules: [
      { type: "CompiledWasm", include: ["**/*.wasm"] },
      { type: "Text", include: ["**/*.txt"] },
    ],
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings,
    d1Databases: Object.fromEntries(config.d1_databases.map((db) => [db.binding, db.database_id])),
    r2Buckets: Object.fromEntries(config.r2_buckets.map((bucket) => [bucket.binding, bucket.bucket_name])),
    durableObjects: Object.fromEntries(
      config.durable_objects.bindings.map((binding) => [
        binding.name,
        { className: binding.class_name, useSQLite: sqlite.has(binding.class_name) },
      ]),
    ),
    // The same router wrangler puts in front of a worker with assets: run_worker_first sends every
    // request to the worker, which reads files through the ASSETS binding.
    assets: {
      directory: assetsDirectory,
      binding: config.assets.binding,
      routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: config.assets.run_worker_first === true },
      assetConfig: { compatibility_date: config.compatibility_date, compatibility_flags: config.compatibility_flags },
    },
    // Queues (the AI document ingestion and its dead-letter queue), as wrangler.toml declares them.
    queueProducers: Object.fromEntries((config.queues?.producers ?? []).map((producer) => [producer.binding, { queueName: producer.queue }])),
    queueConsumers: Object.fromEntries(
      (config.queues?.consumers ?? []).map((consumer) => [
        consumer.queue,
        { maxBatchSize: consumer.max_batch_size, maxBatchTimeout: consumer.max_batch_timeout, maxRetries: consumer.max_retries, deadLetterQueue: consumer.dead_letter_queue },
      ]),
    ),
    d1Persist: path.join(persist, "d1"),
    r2Persist: path.join(persist, "r2"),
    durableObjectsPersist: path.join(persist, "do"),
    cachePersist: path.join(persist, "cache"),
    handleRuntimeStdio: stdioHandler(process.env.SERVE_BUNDLE_LOGS === "1", logTail),
  }));

  let url;
  try {
    url = (await mf.ready).toString().replace(/\/$/, "");
  } catch (error) {
    for (const line of logTail) console.error(`  workerd: ${line}`);
    throw error;
  }
  const database = config.d1_databases[0];
  const db = await mf.getD1Database(database.binding);
  for (const migration of readMigrations(path.resolve(root, database.migrations_dir ?? "migrations"))) {
    await db.batch(migration.statements.map((statement) => db.prepare(statement)));
  }
  return { url, mf, vars: bindings, bundle, logTail: () => [...logTail], dispose };
}
