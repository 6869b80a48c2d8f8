// Small wrappers over `wrangler d1` / `wrangler r2` for the backup and restore scripts.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { unstable_readConfig } from "wrangler";
import { offlineEnv, root } from "./lib.mjs";

/** Parses `--flag value` and `--flag` arguments; the rest are positional. */
export function parseArgs(argv) {
  const options = { positional: [] };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (!arg.startsWith("--")) options.positional.push(arg);
    else if (["--remote", "--local"].includes(arg)) options[arg.slice(2)] = true;
    else options[arg.slice(2)] = argv[++index];
  }
  return options;
}

/** The wrangler configuration of `env` (top level when absent), with its D1 database and bucket. */
export function target(options) {
  const configPath = path.resolve(options.config ?? path.join(root, "wrangler.toml"));
  const config = unstable_readConfig({ config: configPath, env: options.env }, { hideWarnings: true });
  const database = config.d1_databases.find((db) => db.binding === "DB");
  const bucket = config.r2_buckets.find((item) => item.binding === "FILES");
  if (!database || !bucket) throw new Error(`${configPath} has no DB database or FILES bucket`);
  return { configPath, configDir: path.dirname(configPath), env: options.env, remote: Boolean(options.remote), database, bucket };
}

/** Runs wrangler for `t`; returns stdout, or exits with wrangler's own output on failure. */
export function wrangler(t, args) {
  const full = [
    ...args,
    t.remote ? "--remote" : "--local",
    "--config",
    t.configPath,
    ...(t.env ? ["--env", t.env] : []),
  ];
  // The project's own wrangler, also when the configuration lives elsewhere (the round-trip test).
  const result = spawnSync(path.join(root, "node_modules", ".bin", "wrangler"), full, { cwd: t.configDir, env: { ...offlineEnv, CI: "true" }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout}${result.stderr}`);
    throw new Error(`wrangler ${full.join(" ")} failed (exit ${result.status ?? result.signal})`);
  }
  return result.stdout;
}

/** Rows of one SQL query (`wrangler d1 execute --json`). */
export function query(t, sql) {
  const output = wrangler(t, ["d1", "execute", t.database.database_name, "--json", "--command", sql]);
  const parsed = JSON.parse(output.slice(output.indexOf("[")));
  return parsed[0]?.results ?? [];
}

/**
 * The database's tables split in two: full-text (FTS5) virtual tables with their CREATE statements,
 * and plain tables. `d1 export` refuses a database with virtual tables, so backups export the plain
 * tables and restores rebuild each index from its content table. A virtual table's shadow tables
 * (`<name>_data`, `_idx`, ...) belong to it and are in neither list.
 */
export function tableKinds(t) {
  const all = query(t, "select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%' order by name");
  const virtual = all.filter((table) => /^CREATE VIRTUAL TABLE/i.test(String(table.sql)));
  const isShadow = (name) => virtual.some((table) => name.startsWith(`${table.name}_`));
  const plain = all.filter((table) => !virtual.includes(table) && !isShadow(table.name)).map((table) => table.name);
  return { plain, virtual: virtual.map((table) => ({ name: table.name, sql: String(table.sql) })) };
}

/** Every plain table of the database with its row count (the manifest compares them after a restore). */
export function tableCounts(t) {
  const tables = tableKinds(t).plain.map((name) => ({ name }));
  if (tables.length === 0) return {};
  // One row, one column per table (D1 refuses long UNION ALL chains).
  const sql = `select ${tables.map(({ name }) => `(select count(*) from "${name}") as "${name}"`).join(", ")}`;
  return query(t, sql)[0] ?? {};
}
