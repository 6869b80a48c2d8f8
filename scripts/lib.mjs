// Shared helpers for the project scripts (plain Node, no dependencies).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Offline-friendly defaults for every wrangler/miniflare invocation. */
export const offlineEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_UPDATE_NOTIFIER: "1",
};

/** Runs a command in the project root, inheriting stdio; exits the script when it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: offlineEnv, ...options });
  if (result.status !== 0) {
    console.error(`\n✗ ${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  return result;
}

/** Installs dependencies when node_modules is missing or older than the lockfile. */
export function ensureDependencies() {
  const marker = path.join(root, "node_modules", ".package-lock.json");
  if (!existsSync(marker)) {
    console.log("• installing dependencies (npm ci)…");
    run("npm", ["ci", "--no-audit", "--no-fund"]);
  }
  copySwaggerAssets();
}

/** Swagger UI is served from the worker's own assets, copied from the swagger-ui-dist package. */
export function copySwaggerAssets() {
  const source = path.join(root, "node_modules", "swagger-ui-dist");
  const target = path.join(root, "public", "docs", "vendor", "swagger-ui-dist");
  if (existsSync(path.join(target, "swagger-ui-bundle.js"))) return;
  mkdirSync(target, { recursive: true });
  for (const file of ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"]) {
    cpSync(path.join(source, file), path.join(target, file));
  }
}
