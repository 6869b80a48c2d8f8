// `npm run backup [-- --remote] [-- --env production] [-- --out DIR]`: a dated folder under backups/
// with the D1 export (`wrangler d1 export`: tables, rows, indexes, triggers), a listing of the R2
// objects and a manifest with every table's row count and trigger. See docs/RUNBOOK.md.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { parseArgs, query, tableCounts, tableKinds, target, wrangler } from "./d1-cli.mjs";
import { root } from "./lib.mjs";

/** Every object of the local bucket (the state `wrangler dev` / `npm start` keeps in .wrangler/). */
async function listLocalObjects(t) {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
    r2Buckets: { FILES: t.bucket.bucket_name },
    r2Persist: path.join(t.configDir, ".wrangler", "state", "v3", "r2"),
  });
  try {
    const bucket = await mf.getR2Bucket("FILES");
    const objects = [];
    let cursor;
    do {
      const page = await bucket.list({ cursor, limit: 1000 });
      for (const object of page.objects) objects.push({ key: object.key, size: object.size, etag: object.etag, uploaded: object.uploaded.toISOString() });
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return { source: "r2-bucket", objects };
  } finally {
    await mf.dispose();
  }
}

/**
 * Remotely, wrangler cannot list a bucket (only get/put/delete one object): the listing is what D1
 * says must exist (`files` rows). A full copy of the bytes is the R2 copy job in the runbook.
 */
function listExpectedObjects(t) {
  const rows = query(t, "select r2_key as key, size, sha256, created_at from files order by r2_key");
  return { source: "d1-files-table", objects: rows };
}

export async function backup(options) {
  const t = target(options);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const folder = path.resolve(options.out ?? path.join(root, "backups", `${stamp}${t.remote ? `-${t.env ?? "remote"}` : "-local"}`));
  mkdirSync(folder, { recursive: true });

  // Plain tables only: d1 export refuses virtual (FTS5) tables; their CREATE statements go into the
  // manifest and the restore rebuilds them from their content tables.
  // With a --table filter, d1 export keeps only the indexes and triggers named in it too.
  const kinds = tableKinds(t);
  const schemaObjects = query(t, "select name from sqlite_master where type in ('index', 'trigger') and sql is not null and name not like '_cf_%' order by name");
  const tableArgs = [...kinds.plain, ...schemaObjects.map((item) => item.name)].flatMap((name) => ["--table", name]);
  wrangler(t, ["d1", "export", t.database.database_name, "--output", path.join(folder, "d1.sql"), "--skip-confirmation", ...tableArgs]);
  const triggers = query(t, "select name from sqlite_master where type = 'trigger' order by name");
  const listing = t.remote ? listExpectedObjects(t) : await listLocalObjects(t);
  writeFileSync(path.join(folder, "r2-objects.json"), `${JSON.stringify({ bucket: t.bucket.bucket_name, ...listing }, null, 2)}\n`);
  const manifest = {
    created_at: new Date().toISOString(),
    location: t.remote ? "remote" : "local",
    env: t.env ?? null,
    database: t.database.database_name,
    bucket: t.bucket.bucket_name,
    tables: tableCounts(t),
    triggers: triggers.map((trigger) => trigger.name),
    virtual_tables: kinds.virtual,
    r2_objects: listing.objects.length,
  };
  writeFileSync(path.join(folder, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return { folder, manifest };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { folder, manifest } = await backup(parseArgs(process.argv.slice(2)));
  const rows = Object.values(manifest.tables).reduce((sum, n) => sum + n, 0);
  console.log(`✓ ${path.relative(process.cwd(), folder) || folder}: ${Object.keys(manifest.tables).length} tables, ${rows} rows, ${manifest.triggers.length} triggers, ${manifest.r2_objects} R2 objects`);
}
