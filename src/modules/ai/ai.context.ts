import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { createDb } from "../../db/client";
import type { AppEnv } from "../../bindings";
import { clientIp } from "../../lib/client-ip";
import { describeError } from "../../lib/logger";
import { enforceRateLimits } from "../../lib/rate-limit/enforce";
import { principalOf, requirePermission } from "../../middleware/auth";
import type { Permission } from "../../lib/permissions";
import type { GatewayDeps } from "./ai.gateway";
import { recentBlocksCached } from "./ai.risk";
import { riskScore } from "./ai.usage";
import { retrieveForChat } from "./ai.search";

/** Builds the gateway's dependencies from the request. */
export function gatewayDeps(c: Context<AppEnv>): GatewayDeps {
  const principal = principalOf(c);
  const db = createDb(c.env.DB);
  const deps: GatewayDeps = {
    db,
    bindings: c.env,
    config: c.get("config"),
    principal,
    requestId: c.get("requestId"),
    deadline: c.get("deadline"),
    actor: { userId: principal.userId, ip: clientIp(c.req.raw), userAgent: c.req.header("User-Agent")?.slice(0, 256) ?? null, requestId: c.get("requestId") },
    defer: (task) => {
      const running = task().catch((error: unknown) => c.get("logger").error("AI background task failed", describeError(error)));
      try {
        c.executionCtx.waitUntil(running);
      } catch {
        // No execution context (direct app.request): the promise runs on by itself.
      }
    },
  };
  deps.retrieve = (query, documentIds) => retrieveForChat(deps, query, documentIds);
  return deps;
}

/**
 * The per-user AI request limit (policy `ai_user`), tightened by the user's risk score: each call
 * costs 1 + 4 × risk units, so a user whose inputs were blocked ten times today gets a fifth of
 * the normal rate until the blocks age out. The count is kept per isolate for at most a minute
 * (ai.risk.ts), so this costs no D1 read on most requests.
 */
const aiRateLimit: MiddlewareHandler<AppEnv> = createMiddleware<AppEnv>(async (c, next) => {
  const principal = principalOf(c);
  const risk = riskScore(await recentBlocksCached(c.env.DB, principal.userId, Date.now()));
  await enforceRateLimits(c, [{ policy: "ai_user", key: principal.userId, cost: 1 + Math.round(risk * 4) }]);
  await next();
});

/** `requirePermission` plus the AI rate limit, for routes that call models. */
export function aiGuard(permission: Permission) {
  const guard = requirePermission(permission);
  return { ...guard, middleware: [guard.middleware[0], aiRateLimit] as [MiddlewareHandler<AppEnv>, MiddlewareHandler<AppEnv>] };
}
