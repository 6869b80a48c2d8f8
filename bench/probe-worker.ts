/**
 * The benchmark's worker: the production worker (src/index.ts) plus two probe routes that exist
 * only here, outside /api, behind the same global pipeline (request id, log line, security headers,
 * config guard, CORS, body limit, timeout). They give the authenticated scenarios their reference
 * points in the same run:
 * - GET /bench/floor: what every authenticated request must do and nothing else: verify the
 *   access token, one indexed D1 read of session, user, roles and permissions.
 * - GET /bench/users/me-unlimited: GET /api/v1/users/me without the per-user limiter (the same
 *   floor, the same profile body), the unlimited half of the limited/unlimited pair.
 * - GET /bench/hash: one argon2id verification at the configured parameters and nothing else,
 *   the raw hash rate that login throughput is compared with.
 * Never deployed: `npm run build` bundles src/index.ts.
 */
import type { Context } from "hono";
import { createApp } from "../src/app";
import type { AppEnv, Bindings } from "../src/bindings";
import { hashPassword, verifyPassword } from "../src/lib/password";
import { loadSessionPrincipal, type Principal } from "../src/lib/principal";
import { ProblemError } from "../src/lib/problem";
import { verifiedBearer } from "../src/middleware/auth";
import { readReplicaSession } from "../src/middleware/read-session";
import { profileOfPrincipal } from "../src/modules/users/users.service";
import production from "../src/index";

// Every Durable Object class the production entry exports (wrangler refuses a bundle missing one).
export { AuditSealer, MetricsAggregator, Quota, RateLimiter } from "../src/index";

async function floor(c: Context<AppEnv>): Promise<Principal> {
  const bearer = await verifiedBearer(c);
  if (!bearer.ok) throw new ProblemError("unauthorized");
  const principal = await loadSessionPrincipal(readReplicaSession(c), bearer.claims);
  if (!principal) throw new ProblemError("unauthorized");
  c.set("userId", principal.userId);
  return principal;
}

const probes = createApp();
probes.get("/bench/floor", async (c) => {
  const principal = await floor(c);
  return c.json({ user_id: principal.userId });
});
probes.get("/bench/users/me-unlimited", async (c) => {
  const principal = await floor(c);
  if (!principal.permissions.has("profile:read")) throw new ProblemError("forbidden");
  c.header("Cache-Control", "no-store");
  return c.json(profileOfPrincipal(principal));
});

const HASHED = "bench password that is long enough 42";
let stored: Promise<string> | undefined;
probes.get("/bench/hash", async (c) => {
  const config = c.get("config");
  const params = { memoryKib: config.ARGON2_MEMORY_KIB, iterations: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM };
  stored ??= hashPassword(HASHED, params);
  const { ok } = await verifyPassword(HASHED, await stored, params);
  return c.json({ ok });
});

export default {
  fetch: (request, env, ctx) => (new URL(request.url).pathname.startsWith("/bench/") ? probes.fetch(request, env, ctx) : production.fetch(request, env, ctx)),
  scheduled: production.scheduled,
  queue: production.queue,
} satisfies ExportedHandler<Bindings>;
