// `npm run lint:openapi` (also the last step of `npm test`): serves the production bundle, fetches
// the generated /openapi.json, writes it to dist/openapi.json and lints it with Spectral: the OpenAPI
// rules plus the OWASP API Security ruleset (.spectral.yaml). Exits non-zero on any error.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { offlineEnv, root } from "./lib.mjs";
import { serveBundle } from "./serve-bundle.mjs";

const documentPath = path.join(root, "dist", "openapi.json");

// The bundle runs as development, which needs a loopback PUBLIC_BASE_URL (src/env.ts). The
// document uses PUBLIC_BASE_URL only for its links (`servers`, contact); they are rewritten to an
// https deployment's below, because the lint judges what a deployed worker serves.
const LOCAL_BASE_URL = "http://localhost:8787";
const DEPLOYED_BASE_URL = "https://auth.example.com";
const server = await serveBundle({ vars: { PUBLIC_BASE_URL: LOCAL_BASE_URL } });
let document;
try {
  const response = await fetch(`${server.url}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}: ${await response.text()}`);
  document = JSON.parse((await response.text()).replaceAll(LOCAL_BASE_URL, DEPLOYED_BASE_URL));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  for (const line of server.logTail()) console.error(`  worker: ${line}`);
  await server.dispose();
  process.exit(1);
}
await server.dispose();

mkdirSync(path.dirname(documentPath), { recursive: true });
writeFileSync(documentPath, `${JSON.stringify(document, null, 2)}\n`);
const operations = Object.values(document.paths ?? {}).reduce((count, item) => count + Object.keys(item).length, 0);
console.log(`• dist/openapi.json: OpenAPI ${document.openapi}, ${operations} operations`);

// JSON output, so the summary below can count findings by rule and severity.
const result = spawnSync(
  "npx",
  ["spectral", "lint", path.relative(root, documentPath), "--ruleset", ".spectral.yaml", "--fail-severity", "error", "--format", "json", "--quiet"],
  { cwd: root, env: offlineEnv, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
);
let findings;
try {
  findings = JSON.parse(result.stdout || "[]");
} catch {
  process.stderr.write(`${result.stdout}${result.stderr}`);
  console.error("✗ spectral did not produce a result");
  process.exit(1);
}

const severities = ["error", "warning", "info", "hint"];
const byRule = new Map();
for (const finding of findings) {
  const key = `${severities[finding.severity]} ${finding.code}`;
  byRule.set(key, (byRule.get(key) ?? 0) + 1);
}
const errors = findings.filter((finding) => finding.severity === 0);
const warnings = findings.filter((finding) => finding.severity === 1);

for (const finding of errors) {
  console.error(`  error  ${finding.code}  ${finding.path.join(".")}\n         ${finding.message}`);
}
if (byRule.size > 0) {
  console.log("  by rule:");
  for (const [rule, count] of [...byRule].sort()) console.log(`    ${String(count).padStart(4)}  ${rule}`);
}
console.log(`• spectral (spectral:oas + OWASP API Security): ${errors.length} errors, ${warnings.length} warnings`);
if (errors.length > 0 || result.status !== 0) {
  if (errors.length === 0) process.stderr.write(result.stderr);
  console.error("✗ the OpenAPI document has lint errors");
  process.exit(1);
}
