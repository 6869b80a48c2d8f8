// `npm test`: everything CI checks, in order of speed; stops at the first failure.
import { ensureDependencies, run } from "./lib.mjs";

ensureDependencies();
console.log("• dependency audit (npm audit --omit=dev, security/audit-allowlist.json)");
run("node", ["scripts/audit.mjs"]);
console.log("• typecheck (tsc --noEmit)");
run("npx", ["tsc", "--noEmit"]);
console.log("• migrations match src/db/schema.ts");
run("node", ["scripts/check-migrations.mjs"]);
console.log("• vitest inside workerd, with coverage thresholds");
run("npx", ["vitest", "run", "--coverage"]);
console.log("• real-browser tests of the hosted pages (headless Chromium)");
run("node", ["scripts/test-browser.mjs"]);
console.log("• OpenAPI document: Spectral with the OWASP ruleset");
run("node", ["scripts/lint-openapi.mjs"]);
console.log("• typed client: clients/typescript matches /openapi.json and compiles");
run("node", ["scripts/client.mjs", "--check"]);
console.log("• operations: alert rules, dashboard, runbook links (promtool)");
run("node", ["scripts/check-ops.mjs"]);
console.log("• backup and restore round-trip a seeded local database");
run("node", ["scripts/test-backup.mjs"]);
console.log("\n✓ all checks passed");
