// `npm run restore -- <backup folder>`: replaces the LOCAL D1 database with a backup made by
// `npm run backup` (tables, rows, then triggers), and checks every table's row count against the
// manifest. Refuses --remote: production is restored with D1 Time Travel or into a new database
// (docs/RUNBOOK.md), never by overwriting it from a laptop.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, query, tableCounts, tableKinds, target, wrangler } from "./d1-cli.mjs";

/**
 * Tables in an order that drops every referencing (child) table before the table it references:
 * dropping a parent first makes SQLite's implicit delete of the child fail with "no such table".
 */
function dropOrder(tables, references) {
  const remaining = new Set(tables);
  const order = [];
  while (remaining.size > 0) {
    const free = [...remaining].filter((table) => !references.some((ref) => ref.parent === table && remaining.has(ref.child)));
    const next = free.length > 0 ? free : [...remaining];
    for (const table of next) {
      order.push(table);
      remaining.delete(table);
    }
  }
  return order;
}

/** SQL statements split at semicolons outside quoted strings, identifiers and trigger bodies. */
function statements(sql) {
  const result = [];
  let quote = null;
  let start = 0;
  for (let index = 0; index < sql.length; index++) {
    const char = sql[index];
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"' || char === "`") {
      quote = char;
    } else if (char === ";") {
      // A trigger's body has its own semicolons: the statement ends at the body's END.
      const current = sql.slice(start, index).trim();
      if (/^CREATE\s+TRIGGER/i.test(current) && !/\bEND$/i.test(current)) continue;
      result.push(sql.slice(start, index + 1).trim());
      start = index + 1;
    }
  }
  if (sql.slice(start).trim() !== "") result.push(sql.slice(start).trim());
  return result.filter((statement) => statement !== ";");
}

/**
 * `d1 export` writes each table's CREATE and INSERTs together, alphabetically, so a child's rows
 * come before its parent table exists, and SQLite refuses them ("no such table") even with
 * deferred foreign keys. Every CREATE TABLE first, then the rows, then `afterRows` (full-text
 * indexes, which the triggers name), then indexes and triggers.
 */
function tablesFirst(sql, afterRows = []) {
  const all = [...statements(sql), ...afterRows];
  const rank = (statement) =>
    afterRows.includes(statement) ? 2.5 : /^PRAGMA/i.test(statement) ? 0 : /^CREATE TABLE/i.test(statement) ? 1 : /^INSERT/i.test(statement) ? 2 : 3;
  return all
    .map((statement, index) => ({ statement, index }))
    .sort((a, b) => rank(a.statement) - rank(b.statement) || a.index - b.index)
    .map((item) => item.statement)
    .join("\n");
}

export function restore(options) {
  if (options.remote) throw new Error("restore only writes the local database; see docs/RUNBOOK.md for production");
  const folder = path.resolve(options.positional[0] ?? "");
  for (const file of ["d1.sql", "manifest.json"]) {
    if (!existsSync(path.join(folder, file))) throw new Error(`${folder} is not a backup folder (no ${file})`);
  }
  const manifest = JSON.parse(readFileSync(path.join(folder, "manifest.json"), "utf8"));
  const t = target({ ...options, remote: false });

  // Drop what is there (triggers first, foreign keys deferred), then load the export as it is.
  const existing = query(t, "select type, name, sql from sqlite_master where type in ('trigger', 'table') and name not like 'sqlite_%' and name not like '_cf_%'");
  // Foreign keys read from each table's CREATE statement (D1 does not allow pragma_foreign_key_list).
  const references = existing
    .filter((item) => item.type === "table")
    .flatMap((item) => [...String(item.sql).matchAll(/REFERENCES\s+[`"]?(\w+)/gi)].map((match) => ({ child: item.name, parent: match[1] })))
    .filter((ref) => ref.child !== ref.parent);
  // A virtual table is dropped whole (its shadow tables with it); shadow tables are never named.
  const kinds = tableKinds(t);
  const drops = [
    "PRAGMA defer_foreign_keys = on;",
    ...existing.filter((item) => item.type === "trigger").map((item) => `DROP TRIGGER IF EXISTS "${item.name}";`),
    ...kinds.virtual.map((table) => `DROP TABLE IF EXISTS "${table.name}";`),
    ...dropOrder(kinds.plain, references).map((name) => `DROP TABLE IF EXISTS "${name}";`),
  ];
  // Full-text indexes are recreated after the rows and rebuilt from their content tables.
  const rebuilds = (manifest.virtual_tables ?? []).flatMap((table) => [`${table.sql};`, `INSERT INTO "${table.name}" ("${table.name}") VALUES ('rebuild');`]);
  const scratch = mkdtempSync(path.join(tmpdir(), "restore-"));
  try {
    // One file, one execution: the drops, then the export reordered (triggers after the rows, so
    // the audit-chain guard does not judge rows that are being reloaded).
    const script = path.join(scratch, "restore.sql");
    writeFileSync(script, `${drops.join("\n")}\n${tablesFirst(readFileSync(path.join(folder, "d1.sql"), "utf8"), rebuilds)}\n`);
    wrangler(t, ["d1", "execute", t.database.database_name, "--file", script, "--yes"]);
  } finally {
    if (!process.env.KEEP_RESTORE_SCRIPT) rmSync(scratch, { recursive: true, force: true });
  }

  const counts = tableCounts(t);
  const triggers = query(t, "select name from sqlite_master where type = 'trigger' order by name").map((row) => row.name);
  if (JSON.stringify(triggers) !== JSON.stringify(manifest.triggers)) throw new Error(`triggers after the restore (${triggers.join(", ")}) differ from the manifest`);
  const mismatched = Object.entries(manifest.tables).filter(([table, n]) => counts[table] !== n);
  if (mismatched.length > 0) throw new Error(`row counts differ after the restore: ${mismatched.map(([table, n]) => `${table} ${counts[table]} ≠ ${n}`).join(", ")}`);
  return { manifest, counts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { counts } = restore(parseArgs(process.argv.slice(2)));
  console.log(`✓ restored ${Object.keys(counts).length} tables (${Object.values(counts).reduce((sum, n) => sum + n, 0)} rows); row counts match the manifest`);
}
