// A real scrape of GET /metrics, shared by `npm test` (scripts/check-ops.mjs) and `npm run ops:chart`:
// serves the production bundle, signs in an administrator (whose role holds metrics:read), drives
// a short mixed load with autocannon (authenticated reads, liveness, unknown paths, failed logins)
// and returns the exposition text GET /metrics answered, for `promtool check metrics`.
import { spawnSync } from "node:child_process";
import autocannon from "autocannon";
import { serverVars } from "../bench/scenarios.mjs";
import { serveBundle } from "./serve-bundle.mjs";

async function signInAdmin(server) {
  const email = `scrape-${Date.now()}@example.com`;
  const password = "scrape password that is long enough 42";
  const post = (url, body) => fetch(`${server.url}${url}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const registered = await post("/api/v1/auth/register", { email, password, first_name: "Scrape", last_name: "Admin" });
  if (registered.status !== 202) throw new Error(`register answered ${registered.status}`);
  let token;
  // Registration finishes after its response: poll the dev mailbox for the verification link.
  for (let attempt = 0; attempt < 100 && !token; attempt++) {
    const mailbox = await (await fetch(`${server.url}/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json();
    token = /[?&]token=([A-Za-z0-9_-]+)/.exec(mailbox.items?.[0]?.text ?? "")?.[1];
    if (!token) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!token) throw new Error("no verification mail in the dev mailbox");
  const verified = await post("/api/v1/auth/verify-email", { token });
  if (verified.status !== 204) throw new Error(`verify-email answered ${verified.status}`);
  const db = await server.mf.getD1Database("DB");
  await db.prepare("insert into user_roles (user_id, role_id, created_at) select u.id, r.id, ?1 from users u, roles r where u.email = ?2 and r.name = 'admin'").bind(Date.now(), email).run();
  const login = await post("/api/v1/auth/login", { email, password });
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  return (await login.json()).access_token;
}

const FLUSH_MS = 1_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function load(url, seconds, options) {
  return new Promise((resolve, reject) => autocannon({ url, duration: seconds, connections: 4, ...options }, (error, result) => (error ? reject(error) : resolve(result))));
}

/**
 * Serves the bundle, drives `seconds` of mixed load and scrapes GET /metrics with a bearer token
 * holding metrics:read. Throws when the scrape does not answer 200 text/plain.
 *
 * @example const { text } = await scrapeUnderLoad({ seconds: 2 });
 */
export async function scrapeUnderLoad({ seconds = 8 } = {}) {
  // Isolates hand their buffers over every METRICS_FLUSH_EVENTS events or METRICS_FLUSH_MS: a short
  // age here, then one request after the load, so the scrape holds all of it, not all but the tail.
  const server = await serveBundle({ vars: { ...serverVars, METRICS_FLUSH_MS: String(FLUSH_MS) } });
  try {
    const token = await signInAdmin(server);
    await Promise.all([
      load(`${server.url}/api/v1/users/me`, seconds, { headers: { Authorization: `Bearer ${token}` } }),
      load(`${server.url}/health`, seconds, { connections: 2 }),
      load(`${server.url}/no-such-path`, seconds, { connections: 1 }),
      load(`${server.url}/api/v1/auth/login`, seconds, { connections: 1, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "nobody@example.com", password: "wrong password here" }) }),
    ]);
    await sleep(FLUSH_MS + 100);
    await fetch(`${server.url}/health`);
    await sleep(300);
    const response = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}: ${text.slice(0, 300)}`);
    if (!(response.headers.get("content-type") ?? "").startsWith("text/plain")) throw new Error(`GET /metrics answered ${response.headers.get("content-type")}`);
    return { text };
  } finally {
    await server.dispose();
  }
}

/**
 * `promtool check metrics` on an exposition: `{ skipped: true }` without promtool (Debian package
 * `prometheus`), otherwise `{ ok, output }` (promtool exits non-zero on format errors and lint
 * findings alike).
 */
export function promtoolCheckMetrics(text) {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (result.error) return { skipped: true };
  return { skipped: false, ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}
