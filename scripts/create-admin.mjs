// Creates the first administrator directly in D1 (the API has no way to create one without an
// administrator). Idempotent: an existing account with that email is left alone.
//
//   Local (run by `npm start` with the .dev.vars credentials):
//     node scripts/create-admin.mjs --local --email admin@example.com --password-env BOOTSTRAP_ADMIN_PASSWORD
//   Production (see docs/RUNBOOK.md): the password is read from the environment variable you name,
//   hashed here with the production argon2id parameters, and only the hash reaches the database.
//     ADMIN_PASSWORD='…' node scripts/create-admin.mjs --remote --env production --email you@company.com --password-env ADMIN_PASSWORD
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { createRequire } from "node:module";
import { offlineEnv, root } from "./lib.mjs";

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

const remote = process.argv.includes("--remote");
const environment = option("env");
const email = option("email");
const passwordEnv = option("password-env", "ADMIN_PASSWORD");
const password = process.env[passwordEnv];
if (!email || !password) {
  console.error(`usage: node scripts/create-admin.mjs (--local | --remote [--env production]) --email <address> --password-env <VAR>\n(the password is read from $${passwordEnv})`);
  process.exit(2);
}

// The hashing, normalization, policy and ids are the worker's own code, bundled here,
// so the stored formats cannot drift from what the worker expects.
const outDir = mkdtempSync(path.join(tmpdir(), "create-admin-"));
/**
 * The worker imports `.wasm` files as compiled modules (wrangler's CompiledWasm rule); Node has
 * no such import, so here each one becomes a module compiled from the file's bytes.
 */
const compiledWasm = {
  name: "compiled-wasm",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: createRequire(path.join(root, "package.json")).resolve(args.path), namespace: "compiled-wasm" }));
    pluginBuild.onLoad({ filter: /.*/, namespace: "compiled-wasm" }, (args) => ({
      contents: `import { readFileSync } from "node:fs";\nexport default new WebAssembly.Module(readFileSync(${JSON.stringify(args.path)}));`,
      loader: "js",
    }));
  },
};
await build({
  stdin: {
    contents: `export { hashPassword } from "./src/lib/password.ts";
export { checkPassword } from "./src/lib/password-policy.ts";
export { normalizeEmail } from "./src/lib/email.ts";
export { newId } from "./src/lib/ids.ts";
export { OWASP_ARGON2 } from "./src/config.ts";`,
    resolveDir: root,
    loader: "ts",
  },
  outfile: path.join(outDir, "admin-lib.mjs"),
  format: "esm",
  bundle: true,
  platform: "node",
  external: ["cloudflare:*"],
  plugins: [compiledWasm],
  // `.txt` files are Text modules in the worker (wrangler's default rule): the file's content as the
  // default export, which is exactly what esbuild's text loader produces (the common-password list).
  loader: { ".txt": "text" },
  logLevel: "silent",
});
const lib = await import(pathToFileURL(path.join(outDir, "admin-lib.mjs")).href);

const target = ["DB", remote ? "--remote" : "--local", ...(environment ? ["--env", environment] : [])];

function d1(args) {
  const result = spawnSync("npx", ["wrangler", "d1", "execute", ...target, "--json", ...args], { cwd: root, env: { ...offlineEnv, CI: "true" }, encoding: "utf8" });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    process.exit(1);
  }
  return JSON.parse(result.stdout)[0]?.results ?? [];
}

const quote = (value) => (value === null ? "NULL" : typeof value === "number" ? String(value) : `'${String(value).replaceAll("'", "''")}'`);

const normalized = lib.normalizeEmail(email);
const existing = d1(["--command", `SELECT id FROM users WHERE email = ${quote(normalized)}`]);
if (existing.length > 0) {
  console.log(`• administrator ${normalized} already exists`);
  process.exit(0);
}
const problems = lib.checkPassword(password, { minLength: 12, email: normalized });
if (problems.length > 0) {
  console.error(`✗ the administrator password is too weak: ${problems.join("; ")}`);
  process.exit(1);
}

const now = Date.now();
const userId = lib.newId(now);
const passwordHash = await lib.hashPassword(password, lib.OWASP_ARGON2);
const audit = {
  id: lib.newId(now),
  createdAt: now,
  action: "user.bootstrap_admin_created",
  actorUserId: null,
  actorIp: null,
  actorUserAgent: "scripts/create-admin.mjs",
  requestId: null,
  sessionId: null,
  targetType: "user",
  targetId: userId,
  changes: JSON.stringify({ roles: ["admin"], email: normalized }),
};

const sql = [
  `INSERT INTO users (id, email, password_hash, first_name, middle_name, last_name, role_title, email_verified_at, is_active, is_approved, password_changed_at, created_at, updated_at)
   VALUES (${[userId, normalized, passwordHash, "Bootstrap", null, "Administrator", "Administrator", now, 1, 1, now, now, now].map(quote).join(", ")});`,
  `INSERT INTO user_roles (user_id, role_id, created_at) SELECT ${quote(userId)}, id, ${now} FROM roles WHERE name = 'admin';`,
  // Unsealed, like every writer's row (docs/SECURITY.md): the AuditSealer links it into the chain
  // on the next audited request or the cron; the triggers refuse a row inserted sealed.
  `INSERT INTO audit_logs (id, created_at, action, actor_user_id, actor_ip, actor_user_agent, request_id, session_id, target_type, target_id, changes)
   VALUES (${[audit.id, audit.createdAt, audit.action, audit.actorUserId, audit.actorIp, audit.actorUserAgent, audit.requestId, audit.sessionId, audit.targetType, audit.targetId, audit.changes].map(quote).join(", ")});`,
].join("\n");
const file = path.join(outDir, "create-admin.sql");
writeFileSync(file, sql);
d1(["--file", file]);
console.log(`✓ created administrator ${normalized}${remote ? " (remote)" : " (local)"}`);
