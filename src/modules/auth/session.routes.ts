import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../bindings";
import { createDb } from "../../db/client";
import { errorResponses, jsonBody, jsonContent, PUBLIC_ACCESS } from "../../lib/openapi";
import { withRateLimit } from "../../lib/rate-limit/openapi";
import type { PolicyName } from "../../lib/rate-limit/policies";
import { rateLimit } from "../../middleware/rate-limit";
import { ProblemError } from "../../lib/problem";
import { principalOf, requirePermission } from "../../middleware/auth";
import { authDeps } from "./auth.context";
import { RefreshBodySchema, SessionIdParamSchema, SessionListSchema, TokenPairSchema } from "./auth.schemas";
import { endSessions, listSessions, logoutByRefreshToken, refreshSession, sessionIdOfRefreshToken } from "./session.service";

export const sessionRoutes = new OpenAPIHono<AppEnv>();

const REFRESH_LIMITS = ["refresh_ip", "refresh_session"] as const satisfies PolicyName[];
const REFRESH_IP_LIMITS = ["refresh_ip"] as const satisfies PolicyName[];
const REFRESH_SESSION_LIMITS = ["refresh_session"] as const satisfies PolicyName[];
const LOGOUT_LIMITS = ["refresh_ip"] as const satisfies PolicyName[];

/** The session a presented refresh token belongs to: refreshes are counted per session (token family). */
async function refreshSessionKey(c: Context<AppEnv>): Promise<string | undefined> {
  const body = (await c.req.raw.clone().json().catch(() => null)) as { refresh_token?: unknown } | null;
  if (typeof body?.refresh_token !== "string" || body.refresh_token.length > 256) return undefined;
  return (await sessionIdOfRefreshToken(createDb(c.env.DB), body.refresh_token)) ?? undefined;
}

const refreshTokens = createRoute({
  method: "post",
  path: "/auth/refresh",
  operationId: "refreshTokens",
  tags: ["Auth"],
  summary: "Rotate a refresh token: the presented one stops working, a new pair is returned",
  description:
    "Presenting a refresh token that was already rotated out (after a short grace period for " +
    "racing tabs) ends the whole session: it is treated as a stolen token.",
  security: PUBLIC_ACCESS,
  // The per-IP limit first: finding the session of a presented token costs a D1 query, which a
  // request refused per IP must not get.
  middleware: [rateLimit({ policies: REFRESH_IP_LIMITS }), rateLimit({ policies: REFRESH_SESSION_LIMITS, session: refreshSessionKey })] as const,
  request: { body: jsonBody(RefreshBodySchema) },
  responses: withRateLimit({ ...errorResponses(401, 429), 200: jsonContent(TokenPairSchema, "A new token pair") }, REFRESH_LIMITS),
});

sessionRoutes.openapi(refreshTokens, async (c) => {
  const tokens = await refreshSession(authDeps(c), c.req.valid("json").refresh_token);
  c.header("Cache-Control", "no-store");
  return c.json(tokens, 200);
});

const logout = createRoute({
  method: "post",
  path: "/auth/logout",
  operationId: "logout",
  tags: ["Auth"],
  summary: "End the session a refresh token belongs to",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: LOGOUT_LIMITS })] as const,
  request: { body: jsonBody(RefreshBodySchema) },
  responses: withRateLimit({ ...errorResponses(429), 204: { description: "The session is ended (also when it already was)" } }, LOGOUT_LIMITS),
});

sessionRoutes.openapi(logout, async (c) => {
  await logoutByRefreshToken(authDeps(c), c.req.valid("json").refresh_token);
  return c.body(null, 204);
});

const logoutEverywhere = createRoute({
  method: "post",
  path: "/auth/logout-all",
  operationId: "logoutEverywhere",
  tags: ["Auth"],
  summary: "End every session of the caller, this one included",
  ...requirePermission("account:security"),
  responses: { ...errorResponses(401, 403, 429), 204: { description: "Every session is ended" } },
});

sessionRoutes.openapi(logoutEverywhere, async (c) => {
  const principal = principalOf(c);
  await endSessions(authDeps(c), { userId: principal.userId }, "logout_all", {
    action: "user.logout_all",
    actorUserId: principal.userId,
    sessionId: principal.sessionId,
    targetType: "user",
    targetId: principal.userId,
  });
  return c.body(null, 204);
});

const listMySessions = createRoute({
  method: "get",
  path: "/auth/sessions",
  operationId: "listMySessions",
  tags: ["Auth"],
  summary: "The caller's live sessions; `current` marks the one this token belongs to",
  ...requirePermission("profile:read"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(SessionListSchema, "Live sessions, newest first") },
});

sessionRoutes.openapi(listMySessions, async (c) => {
  const principal = principalOf(c);
  const items = await listSessions(authDeps(c), principal.userId, principal.sessionId);
  c.header("Cache-Control", "no-store");
  return c.json({ items }, 200);
});

const endMySession = createRoute({
  method: "delete",
  path: "/auth/sessions/{id}",
  operationId: "endMySession",
  tags: ["Auth"],
  summary: "End one of the caller's own sessions (another user's id answers 404)",
  ...requirePermission("account:security"),
  request: { params: SessionIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "The session is ended" } },
});

sessionRoutes.openapi(endMySession, async (c) => {
  const principal = principalOf(c);
  const { id } = c.req.valid("param");
  const ended = await endSessions(authDeps(c), { userId: principal.userId, sessionId: id }, "ended_by_user", {
    action: "session.ended",
    actorUserId: principal.userId,
    sessionId: id,
    targetType: "session",
    targetId: id,
  });
  if (ended === 0) throw new ProblemError("not_found", { detail: "No such session." });
  return c.body(null, 204);
});
