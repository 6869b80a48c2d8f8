// The benchmark's scenarios, run in this order by `npm run bench` (scripts/bench.mjs) against the
// production bundle served by Miniflare. Every feature adds its own here; the first one is the
// baseline that every other scenario's throughput is compared with in the same run.
//
// A scenario:
//   name          what the table shows, e.g. "GET /api/v1/users/me"
//   method        HTTP method (default GET)
//   path          request path (with the query string, if any)
//   headers       request headers (optional)
//   body          request body, a string or an object sent as JSON (optional)
//   expectStatus  the status every response should have (default 200); others count as unexpected
//   connections   concurrent connections for this scenario (default BENCH_CONNECTIONS)
//   vars          optional worker variables on top of serverVars; the scenario gets its own server
//                 (fresh state), e.g. to measure a feature switched off and on in the same run
//   setup         optional async ({ url, vars, mf, request }) => ({ headers?, body?, path?, requests? }), run once
//                 before the warm-up: sign in and return a bearer header, create a resource, ...
//                 `request(path, init)` is fetch against the server; `vars` are the worker's
//                 variables (BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD among them).
//                 `requests` is autocannon's per-connection request list (setupRequest/onResponse),
//                 for scenarios whose every request depends on the previous answer (refresh rotation).
//
// Example of a later, authenticated scenario:
//   {
//     name: "GET /api/v1/users/me",
//     path: "/api/v1/users/me",
//     setup: async ({ vars, request }) => {
//       const login = await request("/api/v1/auth/login", {
//         method: "POST",
//         headers: { "Content-Type": "application/json" },
//         body: JSON.stringify({ email: vars.BOOTSTRAP_ADMIN_EMAIL, password: vars.BOOTSTRAP_ADMIN_PASSWORD }),
//       });
//       const { access_token } = await login.json();
//       return { headers: { Authorization: `Bearer ${access_token}` } };
//     },
//   },

/**
 * Variables for the benchmarked worker, on top of wrangler.toml's [vars] and the generated secrets.
 * Production argon2 parameters stay: a benchmark of cheap hashing would measure the wrong thing.
 */
export const serverVars = {
  // One JSON log line per request is part of the real cost; "info" keeps it in the measurement.
  LOG_LEVEL: "info",
  // One signed-in user drives thousands of requests per second: the per-user limiter still runs
  // (its cost is measured) but with a ceiling the benchmark cannot reach.
  // Same for the per-IP limit of anonymous /api traffic: every request is checked, none refused.
  // The login scenarios fail or succeed thousands of times from one IP and one address: their
  // limiters run on every attempt but never refuse.
  RATE_LIMIT_OVERRIDES: JSON.stringify({
    api_user: { limit: 1_000_000_000, window: 60 },
    api_anonymous: { limit: 1_000_000_000, window: 60 },
    login_ip: { limit: 1_000_000_000, window: 60 },
    login_network: { limit: 1_000_000_000, window: 60 },
    login_account: { limit: 1_000_000_000, window: 60 },
    ai_user: { limit: 1_000_000_000, window: 60 },
    refresh_ip: { limit: 1_000_000_000, window: 60 },
    refresh_session: { limit: 1_000_000_000, window: 60 },
    api_key: { limit: 1_000_000_000, window: 60 },
  }),
  // The upload scenario stores ~100 KB per request for the whole run under one user.
  FILES_QUOTA_BYTES: String(1_099_511_627_776),
};

/**
 * Registers a fresh account, verifies it through the dev mailbox (MAIL_TRANSPORT=capture) and
 * logs in; returns the bearer header. Login costs one production-strength argon2id hash, once.
 */
const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const BENCH_PASSWORD = "bench password that is long enough 42";

/** Registers and verifies a fresh account through the dev mailbox; returns its email and password. */
export async function createAccount({ request }) {
  const email = `bench-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = BENCH_PASSWORD;
  const registered = await request("/api/v1/auth/register", json({ email, password, first_name: "Bench", last_name: "User" }));
  if (registered.status !== 202) throw new Error(`register answered ${registered.status}`);
  let token;
  for (let attempt = 0; attempt < 50 && !token; attempt++) {
    const mailbox = await (await request(`/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json();
    token = /[?&]token=([A-Za-z0-9_-]+)/.exec(mailbox.items?.[0]?.text ?? "")?.[1];
    if (!token) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!token) throw new Error("no verification mail in the dev mailbox");
  const verified = await request("/api/v1/auth/verify-email", json({ token }));
  if (verified.status !== 204) throw new Error(`verify-email answered ${verified.status}`);
  return { email, password };
}

async function logIn({ request }, { email, password }) {
  const login = await request("/api/v1/auth/login", json({ email, password }));
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  return login.json();
}

export async function signIn(context) {
  const account = await createAccount(context);
  const { access_token } = await logIn(context, account);
  return { headers: { Authorization: `Bearer ${access_token}` }, email: account.email, accessToken: access_token };
}

/** Signs in, makes the account an administrator in D1 and creates an API key with `scopes`. */
async function apiKeyOf({ mf, request, ...context }, scopes) {
  const session = await signIn({ mf, request, ...context });
  const db = await mf.getD1Database("DB");
  await db
    .prepare("insert or ignore into user_roles (user_id, role_id, created_at) select u.id, r.id, ?1 from users u, roles r where u.email = ?2 and r.name = 'admin'")
    .bind(Date.now(), session.email)
    .run();
  const created = await request("/api/v1/api-keys", {
    method: "POST",
    headers: { ...session.headers, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "bench", scopes }),
  });
  if (created.status !== 201) throw new Error(`creating an API key answered ${created.status}`);
  return { key: (await created.json()).key, accessToken: session.accessToken };
}

/** Bundles one source module with esbuild and imports it (the AI scenarios reuse the worker's own code). */
async function importSource(relative) {
  const { build } = await import("esbuild");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const path = await import("node:path");
  const { pathToFileURL, fileURLToPath } = await import("node:url");
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const outfile = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "module.mjs");
  await build({ entryPoints: [path.join(root, relative)], outfile, format: "esm", bundle: true, logLevel: "silent" });
  return import(pathToFileURL(outfile).href);
}

/** The signed-in user's id (the access token's `sub`). */
const userIdOf = (headers) => JSON.parse(Buffer.from(headers.Authorization.split(".")[1], "base64url").toString()).sub;

/** A signed-in user whose roles have no AI token or cost limit (the benchmark makes thousands of calls). */
async function signInForAi(context) {
  const signedIn = await signIn(context);
  const db = await context.mf.getD1Database("DB");
  await db.prepare("update roles set ai_daily_token_limit = null, ai_monthly_cost_limit_micro_usd = null where name = 'user'").run();
  return signedIn;
}

/** Ordinary business prose of about `bytes` bytes, for the screening scenarios. */
function prose(bytes) {
  const sentence = "The quarterly report shows steady growth in the northern region, and the team plans two new hires before the summer. ";
  return sentence.repeat(Math.ceil(bytes / sentence.length)).slice(0, bytes);
}

const TOPICS = ["invoices", "travel", "security", "hiring", "payroll", "laptops", "offices", "training", "holidays", "pensions"];

/**
 * 10,000 passages for the signed-in user, written straight into the local store (D1 rows, FTS5 by
 * trigger, int8 vectors from the local embedder), as ingestion would leave them.
 */
async function seedChunks(context) {
  const signedIn = await signInForAi(context);
  const ownerId = userIdOf(signedIn.headers);
  const { embedText } = await importSource("src/modules/ai/providers/local.ts");
  const { quantize } = await importSource("src/modules/ai/vector-store/d1-local.ts");
  const db = await context.mf.getD1Database("DB");
  const now = Date.now();
  for (let document = 0; document < 10; document++) {
    const fileId = crypto.randomUUID();
    const documentId = crypto.randomUUID();
    await db.prepare("insert into files (id, owner_id, name, content_type, size, sha256, r2_key, created_at) values (?, ?, ?, 'text/plain', 1, '', ?, ?)")
      .bind(fileId, ownerId, `bench-${document}.txt`, `files/${ownerId}/${fileId}`, now).run();
    await db.prepare("insert into ai_documents (id, owner_id, file_id, status, chunk_count, created_at, updated_at) values (?, ?, ?, 'ready', 1000, ?, ?)")
      .bind(documentId, ownerId, fileId, now, now).run();
    const statements = [];
    for (let chunk = 0; chunk < 1000; chunk++) {
      const topic = TOPICS[(document * 1000 + chunk) % TOPICS.length];
      const text = `Section ${chunk} of handbook ${document} about ${topic}: employees submit ${topic} requests through the portal, reference ${document * 1000 + chunk}, and managers approve them within ${1 + (chunk % 9)} days.`;
      statements.push(db.prepare("insert into ai_chunks (id, document_id, owner_id, chunk, text, embedding) values (?, ?, ?, ?, ?, ?)").bind(`${documentId}:${chunk}`, documentId, ownerId, chunk, text, quantize(embedText(text))));
    }
    for (let start = 0; start < statements.length; start += 200) await db.batch(statements.slice(start, start + 200));
  }
  return signedIn;
}

/** One signed-in account shared by the authenticated scenarios (login costs a hash; once is enough). */
let sharedSignIn;
const signedIn = (context) => (sharedSignIn ??= signIn(context));

/**
 * Refresh rotation: every request rotates a refresh token nobody used before. A pool of sessions
 * is issued up front (three per connection: the warm-up, the measured run and a spare). A request
 * takes the next unused token and its answer puts the rotated one back, so the connections follow
 * rotation chains. (autocannon resets a connection's context after its last request, so the chain
 * cannot live there.)
 */
async function refreshChains(context, connections) {
  const account = await createAccount(context);
  const unused = [];
  for (let i = 0; i < connections * 3; i++) unused.push((await logIn(context, account)).refresh_token);
  return {
    requests: [
      {
        method: "POST",
        path: "/api/v1/auth/refresh",
        headers: { "content-type": "application/json" },
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ refresh_token: unused.shift() }) }),
        onResponse: (status, body) => {
          if (status === 200) unused.push(JSON.parse(body).refresh_token);
        },
      },
    ],
  };
}

/** A multipart/form-data body with one ~100 KB text file. */
function uploadBody() {
  const boundary = "bench-boundary-7d2f0c";
  const line = "The quick brown fox jumps over the lazy dog. 0123456789\n";
  const text = line.repeat(Math.ceil(100_000 / line.length)).slice(0, 100_000);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body:
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.txt"\r\n` +
      `Content-Type: text/plain\r\n\r\n${text}\r\n--${boundary}--\r\n`,
  };
}

export const scenarios = [
  // The baseline: no dependency, no body parsing; shows the runtime's ceiling on this machine.
  { name: "GET /health", path: "/health" },
  // D1 `select 1`, an R2 HEAD and a Durable Object RPC per request.
  { name: "GET /health/ready", path: "/health/ready" },
  // The generated document, built and serialised once per isolate.
  { name: "GET /openapi.json", path: "/openapi.json" },
  // The limiter's cost: the same not-found handler and pipeline, without and with a rate limit.
  // Outside /api no limiter runs; under /api every anonymous request takes a unit of api_anonymous
  // per client IP (from the isolate's lease: a Durable Object call per 100 requests at the bench's
  // raised limit). The difference between the two is the limiter.
  { name: "GET /no-such-path (404, not limited)", path: "/no-such-path", expectStatus: 404 },
  { name: "GET /api/v1/no-such-path (404, limited per IP)", path: "/api/v1/no-such-path", expectStatus: 404 },
  // The authenticated floor (bench/probe-worker.ts): JWT verification and the one principal read.
  { name: "GET /bench/floor (JWT + principal read)", path: "/bench/floor", setup: signedIn },
  // A permission-checked read: the floor, the per-user limiter (leased), the profile from the
  // principal read. Its unlimited twin below is the same without the limiter.
  { name: "GET /api/v1/users/me", path: "/api/v1/users/me", setup: signedIn },
  { name: "GET /bench/users/me-unlimited (no limiter)", path: "/bench/users/me-unlimited", setup: signedIn },
  // Each request rotates a never-used refresh token (two exact limiter calls, one D1 batch).
  {
    name: "POST /api/v1/auth/refresh (rotation)",
    method: "POST",
    path: "/api/v1/auth/refresh",
    setup: (context) => refreshChains(context, Number(process.env.BENCH_CONNECTIONS ?? 10)),
  },
  // A 100 KB text upload: multipart parsing, content validation, R2 put, quota insert.
  {
    name: "POST /api/v1/files (100 KB upload)",
    method: "POST",
    path: "/api/v1/files",
    expectStatus: 201,
    setup: async (context) => {
      const { headers } = await signedIn(context);
      const { contentType, body } = uploadBody();
      return { headers: { ...headers, "content-type": contentType }, body };
    },
  },
  // AI gateway (docs/ai.md). The screening endpoint is the same pipeline (auth, limiter, JSON body)
  // with screening and no model: the reference the chat's gateway overhead is measured against.
  { name: "POST /api/v1/ai/screen (1 KB)", method: "POST", path: "/api/v1/ai/screen", body: { text: prose(1024) }, setup: signInForAi },
  { name: "POST /api/v1/ai/screen (32 KB)", method: "POST", path: "/api/v1/ai/screen", body: { text: prose(31_000) }, setup: signInForAi },
  // The whole gateway on the offline provider: model choice, screening, AI rate limit with risk
  // score, policy read, budget reserve and settle (two Quota objects), usage row after the response.
  {
    name: "POST /api/v1/ai/chat (local, non-streamed)",
    method: "POST",
    path: "/api/v1/ai/chat",
    body: { messages: [{ role: "user", content: prose(1024) }], max_tokens: 64 },
    setup: signInForAi,
  },
  // Hybrid search (vector scan + FTS5, fused) over 10,000 passages of one owner in the D1 store.
  {
    name: "POST /api/v1/ai/search (10,000 chunks, local store)",
    method: "POST",
    path: "/api/v1/ai/search",
    body: { query: "how long do managers take to approve payroll requests?", limit: 10 },
    setup: seedChunks,
  },
  // The hash alone at the production parameters (bench/probe-worker.ts), the reference for login.
  { name: "GET /bench/hash (argon2id only, 8 connections)", path: "/bench/hash", connections: 8 },
  // A login is one argon2id at the production parameters plus the session writes. 8 connections:
  // hashing is CPU-bound, so more connections only queue; compare with "raw argon2id hash".
  {
    name: "POST /api/v1/auth/login (8 connections)",
    method: "POST",
    path: "/api/v1/auth/login",
    connections: 8,
    setup: async ({ request }) => ({ body: await createAccount({ request }) }),
  },
  // The same with an address that has no account: the dummy hash must cost what a real one does.
  {
    name: "POST /api/v1/auth/login, unknown email (8 connections)",
    method: "POST",
    path: "/api/v1/auth/login",
    connections: 8,
    expectStatus: 401,
    body: { email: "nobody-here@example.com", password: BENCH_PASSWORD },
  },
  // GET /api/v1/users/me authenticated by an API key instead: one HMAC, one D1 read by the key-hash
  // index (key, owner, roles, permissions), the per-key rate limiter; last-used written at most
  // once a minute after the response. Compare with GET /api/v1/users/me (JWT verification + principal read).
  {
    name: "GET /api/v1/users/me (API key)",
    path: "/api/v1/users/me",
    setup: async (context) => ({ headers: { Authorization: `Bearer ${(await apiKeyOf(context, ["profile:read"])).key}` } }),
  },
  // Introspection of an access token by a resource server's key: the caller's key is verified (one
  // read), then the token's signature and one more read for its session, user, roles and permissions.
  {
    name: "POST /oauth/introspect (access token)",
    method: "POST",
    path: "/oauth/introspect",
    setup: async (context) => {
      const { key, accessToken } = await apiKeyOf(context, ["tokens:introspect"]);
      return {
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: accessToken }).toString(),
      };
    },
  },
  // Introspection of an API key: two key reads (the caller's and the introspected one's).
  {
    name: "POST /oauth/introspect (API key)",
    method: "POST",
    path: "/oauth/introspect",
    setup: async (context) => {
      const { key } = await apiKeyOf(context, ["tokens:introspect"]);
      return {
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: key }).toString(),
      };
    },
  },
  // Operations (issue 14): the cost of metrics (RED recording, timed bindings, batched hand-over to
  // the aggregator), the same read with metrics off and on, each on a fresh server of its own.
  // Run off, on, on, off (ABBA) so a drift of the machine's load over the four runs cancels out;
  // scripts/bench.mjs prints the overhead from the pooled latencies of each arm (docs/metrics.md).
  ...["off", "on", "on", "off"].map((arm, index) => ({
    name: `GET /api/v1/users/me (metrics ${arm}, run ${index < 2 ? 1 : 2})`,
    path: "/api/v1/users/me",
    setup: signIn,
    vars: { METRICS_ENABLED: arm === "on" ? "true" : "false" },
  })),
];
