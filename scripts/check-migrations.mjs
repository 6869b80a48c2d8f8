// Fails when src/db/schema.ts has changes that no committed migration in drizzle/ contains:
// drizzle-kit generates into a scratch copy of drizzle/ and must find nothing to do.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { offlineEnv, root } from "./lib.mjs";

// drizzle-kit resolves --out relative to the project, so the scratch copy lives inside it (git-ignored).
const relativeScratch = path.join(".wrangler", "tmp", `migrations-check-${process.pid}`);
const scratch = path.join(root, relativeScratch);
try {
  mkdirSync(scratch, { recursive: true });
  cpSync(path.join(root, "drizzle"), scratch, { recursive: true });
  const before = readdirSync(scratch).length;
  const result = spawnSync(
    "npx",
    ["drizzle-kit", "generate", "--dialect", "sqlite", "--schema", "./src/db/schema.ts", "--out", relativeScratch, "--name", "drift"],
    { cwd: root, env: offlineEnv, encoding: "utf8" },
  );
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0 || /Error:/.test(output)) {
    console.error(output);
    console.error("✗ drizzle-kit could not compare the schema with drizzle/");
    process.exit(1);
  }
  const created = readdirSync(scratch).filter((file) => file.endsWith(".sql")).length - readdirSync(path.join(root, "drizzle")).filter((file) => file.endsWith(".sql")).length;
  if (created > 0 || readdirSync(scratch).length !== before) {
    console.error(output);
    console.error("✗ src/db/schema.ts differs from the migrations in drizzle/: run `npm run db:generate -- --name <change>` and commit the result");
    process.exit(1);
  }
  console.log("✓ drizzle/ matches src/db/schema.ts");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
