// The real-browser tests (test/browser/): headless Chromium against the production bundle served on
// loopback. Chromium comes from the operating system (Debian: `apt-get install chromium`; .ci/run
// installs it); without it the tests are skipped, and this says so loudly rather than passing quietly.
import { spawnSync } from "node:child_process";
import { offlineEnv, root } from "./lib.mjs";
import { findChromium } from "../test/browser/harness.mjs";

const chromium = findChromium();
if (!chromium) {
  console.log("\n  ⚠ SKIPPED: real-browser tests (test/browser/): no Chromium found.");
  console.log("    Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH, then run npm test again.\n");
  process.exit(0);
}
console.log(`  using ${chromium}`);
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=1", "test/browser/email-links.browser.mjs", "test/browser/mfa.browser.mjs"], {
  cwd: root,
  stdio: "inherit",
  env: { ...offlineEnv, CHROMIUM_PATH: chromium },
});
process.exit(result.status ?? 1);
