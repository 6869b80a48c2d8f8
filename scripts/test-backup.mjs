// `npm test` step: `npm run backup` and `npm run restore` round-trip a seeded local database.
// Runs in a throw-away copy of the project's wrangler.toml and migrations, so the developer's own
// local state (.wrangler/) is never touched.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { backup } from "./backup.mjs";
import { query, target, wrangler } from "./d1-cli.mjs";
import { root } from "./lib.mjs";
import { restore } from "./restore.mjs";

const scratch = mkdtempSync(path.join(tmpdir(), "backup-test-"));
try {
  cpSync(path.join(root, "wrangler.toml"), path.join(scratch, "wrangler.toml"));
  cpSync(path.join(root, "drizzle"), path.join(scratch, "drizzle"), { recursive: true });
  mkdirSync(path.join(scratch, "public"));
  const options = { config: path.join(scratch, "wrangler.toml") };
  const t = target(options);
  const sql = (text) => wrangler(t, ["d1", "execute", t.database.database_name, "--command", text, "--yes"]);

  // Seed: the migrations (schema, catalog, triggers), two users with roles, one stored object.
  wrangler(t, ["d1", "migrations", "apply", "DB"]);
  const now = Date.now();
  sql(
    `insert into users (id, email, password_hash, first_name, last_name, is_active, is_approved, password_changed_at, created_at, updated_at) values
     ('0190b5c8-0000-7000-8000-000000000001', 'ada@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'Ada', 'Lovelace', 1, 1, ${now}, ${now}, ${now}),
     ('0190b5c8-0000-7000-8000-000000000002', 'grace@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'Grace', 'Hopper', 1, 0, ${now}, ${now}, ${now});
     insert into user_roles (user_id, role_id, created_at) select u.id, r.id, ${now} from users u, roles r where r.name = 'user';`,
  );
  const object = path.join(scratch, "object.txt");
  writeFileSync(object, "bytes of an uploaded file\n");
  wrangler(t, ["r2", "object", "put", `${t.bucket.bucket_name}/files/0190b5c8-0000-7000-8000-000000000001/f1`, "--file", object]);
  // One query (each wrangler start costs seconds): every user row, every role link, every trigger.
  const snapshot = () =>
    query(
      t,
      `select (select json_group_array(json_array(id, email, password_hash, first_name, last_name, is_active, is_approved, created_at)) from (select * from users order by id)) as users,
              (select json_group_array(user_id || ' ' || role_id) from (select * from user_roles order by user_id)) as roles,
              (select json_group_array(name) from (select name from sqlite_master where type = 'trigger' order by name)) as triggers,
              (select count(*) from role_permissions) as role_permissions`,
    )[0];
  const seeded = snapshot();
  assert.equal(JSON.parse(seeded.users).length, 2);
  assert.ok(JSON.parse(seeded.triggers).length > 0, "the migrations create the audit-chain triggers");

  const { folder, manifest } = await backup({ ...options, out: path.join(scratch, "backup") });
  assert.equal(manifest.tables.users, 2);
  const listing = JSON.parse(readFileSync(path.join(folder, "r2-objects.json"), "utf8"));
  assert.deepEqual(listing.objects.map((item) => item.key), ["files/0190b5c8-0000-7000-8000-000000000001/f1"]);

  // Damage: one user deleted (with its role), another added, a table emptied.
  sql("delete from users where email = 'ada@example.com'; insert into users (id, email, password_hash, first_name, last_name, password_changed_at, created_at, updated_at) values ('0190b5c8-0000-7000-8000-000000000009', 'eve@example.com', 'x', 'Eve', 'E', 1, 1, 1); delete from role_permissions;");
  assert.notDeepEqual(snapshot(), seeded);

  assert.throws(() => restore({ ...options, positional: [folder], remote: true }), /only writes the local database/);
  restore({ ...options, positional: [folder] });
  assert.deepEqual(snapshot(), seeded);
  console.log(`  ✓ backup → damage → restore round trip: ${Object.keys(manifest.tables).length} tables, ${JSON.parse(seeded.triggers).length} triggers, 1 R2 object listed`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
