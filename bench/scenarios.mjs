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
//   setup         optional async ({ url, vars, mf, request }) => ({ headers?, body?, path? }), run once
//                 before the warm-up: sign in and return a bearer header, create a resource, ...
//                 `request(path, init)` is fetch against the server; `vars` are the worker's
//                 variables (BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD among them).
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
  RATE_LIMIT_OVERRIDES: JSON.stringify({ api_user: { limit: 1_000_000_000, window: 60 }, api_anonymous: { limit: 1_000_000_000, window: 60 } }),
};

/**
 * Registers a fresh account, verifies it through the dev mailbox (MAIL_TRANSPORT=capture) and
 * logs in; returns the bearer header. Login costs one production-strength argon2id hash, once.
 */
async function signIn({ request }) {
  const email = `bench-${Date.now()}@example.com`;
  const password = "bench password that is long enough 42";
  const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
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
  const login = await request("/api/v1/auth/login", json({ email, password }));
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  const { access_token } = await login.json();
  return { headers: { Authorization: `Bearer ${access_token}` } };
}

export const scenarios = [
  // The baseline: no dependency, no body parsing; shows the runtime's ceiling on this machine.
  { name: "GET /health", path: "/health" },
  // D1 `select 1`, an R2 HEAD and a Durable Object RPC per request.
  { name: "GET /health/ready", path: "/health/ready" },
  // The generated document (cached per isolate after the first request) serialised per request.
  { name: "GET /openapi.json", path: "/openapi.json" },
  // The limiter's cost: the same not-found handler and pipeline, without and with a rate limit.
  // Outside /api no limiter runs; under /api every anonymous request makes one Durable Object call
  // (api_anonymous per client IP). The difference between the two is the limiter.
  { name: "GET /no-such-path (404, not limited)", path: "/no-such-path", expectStatus: 404 },
  { name: "GET /api/v1/no-such-path (404, limited per IP)", path: "/api/v1/no-such-path", expectStatus: 404 },
  // A permission-checked read: JWT verification, one D1 read for session + roles + permissions,
  // the per-user rate limiter, then the profile (one more D1 read).
  { name: "GET /api/v1/users/me", path: "/api/v1/users/me", setup: signIn },
];
