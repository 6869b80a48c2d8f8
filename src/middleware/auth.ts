import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { InvalidTokenError, verifyAccessToken, type AccessTokenClaims } from "../lib/jwt";
import type { Permission } from "../lib/permissions";
import { type Principal, loadSessionPrincipal } from "../lib/principal";
import { ProblemError } from "../lib/problem";
import { enforceMfaEnrollment } from "./assurance";
import { readReplicaSession, writeBookmark } from "./read-session";

export type { Principal } from "../lib/principal";
import { presentedApiKey, resolveApiKey } from "../modules/api-keys/api-keys.verify";

const WWW_AUTHENTICATE = 'Bearer error="invalid_token"';

function unauthorized(detail: string): ProblemError {
  return new ProblemError("unauthorized", { detail, headers: { "WWW-Authenticate": WWW_AUTHENTICATE } });
}

type BearerResult = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: string };

const bearerResults = new WeakMap<Request, Promise<BearerResult>>();

/**
 * Verifies the request's bearer token once per request (the anonymous rate limit and the auth
 * guard both ask). Checks the signature and claims only; the session is checked by the guard.
 */
export function verifiedBearer(c: Context<AppEnv>): Promise<BearerResult> {
  let result = bearerResults.get(c.req.raw);
  if (!result) {
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+([A-Za-z0-9_\-.]{10,4096})\s*$/i.exec(header);
    result = match
      ? verifyAccessToken(c.get("config"), match[1]!).then(
          (claims): BearerResult => ({ ok: true, claims }),
          (error: unknown): BearerResult => {
            if (error instanceof InvalidTokenError) return { ok: false, reason: error.message };
            throw error;
          },
        )
      : Promise.resolve({ ok: false, reason: header ? "not a bearer token" : "missing" });
    bearerResults.set(c.req.raw, result);
  }
  return result;
}

/**
 * Whether the request carries a credential that verifies (an access token's signature and claims,
 * or a live API key): only such requests leave the anonymous per-IP limit.
 */
export async function credentialVerifies(c: Context<AppEnv>): Promise<boolean> {
  const apiKey = presentedApiKey(c);
  if (apiKey) return (await resolveApiKey(c, apiKey)).ok;
  return (await verifiedBearer(c)).ok;
}

function remember(c: Context<AppEnv>, principal: Principal): Principal {
  c.set("principal", principal);
  c.set("userId", principal.userId);
  return principal;
}

async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const existing = c.get("principal");
  if (existing) return existing;
  // API keys resolve in their own module (one indexed read by key hash).
  const apiKey = presentedApiKey(c);
  if (apiKey) {
    const result = await resolveApiKey(c, apiKey);
    if (!result.ok) {
      c.get("logger").info("api key rejected", { reason: result.reason });
      throw unauthorized("The API key is invalid, expired or revoked.");
    }
    return remember(c, result.principal);
  }
  const bearer = await verifiedBearer(c);
  if (!bearer.ok) {
    c.get("logger").info("access token rejected", { reason: bearer.reason });
    throw unauthorized(
      bearer.reason === "missing" || bearer.reason === "not a bearer token" ? "A valid bearer access token or API key is required." : "The access token is invalid or expired.",
    );
  }
  const principal = await loadSessionPrincipal(readReplicaSession(c), bearer.claims);
  if (!principal) throw unauthorized("The session has ended or the account is unavailable.");
  return remember(c, principal);
}

/** Hooks run after authentication (the per-user rate limit registers itself here). */
const afterAuthentication: Array<(c: Context<AppEnv>, principal: Principal) => Promise<void>> = [];

/** Adds a step that runs once the caller is known, before the permission check. */
export function onAuthenticated(hook: (c: Context<AppEnv>, principal: Principal) => Promise<void>): void {
  afterAuthentication.push(hook);
}

/** Marks the guard middleware, so the rate limiter can tell whether a route checks the token before its own limiter. */
export const AUTH_GUARD = Symbol("authGuard");

function authorize(permissions: readonly Permission[], mode: "all" | "any"): MiddlewareHandler<AppEnv> {
  const guard = createMiddleware<AppEnv>(async (c, next) => {
    const principal = await authenticate(c);
    for (const hook of afterAuthentication) await hook(c, principal);
    const missing = permissions.filter((permission) => !principal.permissions.has(permission));
    const allowed = mode === "all" ? missing.length === 0 : missing.length < permissions.length;
    if (!allowed) {
      const needed = mode === "all" ? missing : permissions;
      throw new ProblemError("forbidden", {
        detail: `This needs the permission${needed.length > 1 ? (mode === "all" ? "s" : " (any of)") : ""} ${needed.join(", ")}.`,
        extensions: { missing_permissions: needed },
      });
    }
    await enforceMfaEnrollment(c, principal, permissions);
    await next();
    await writeBookmark(c);
  });
  return Object.assign(guard, { [AUTH_GUARD]: true });
}

interface RouteGuard {
  security: { Bearer: string[] }[];
  middleware: [MiddlewareHandler<AppEnv>];
  "x-required-permissions": Permission[];
  "x-permission-mode": "all" | "any";
}

/**
 * Declares, on the route definition itself, that the caller needs a valid access token and ALL of
 * `permissions`. Spread it into `createRoute` so the OpenAPI document (security and
 * `x-required-permissions`) and the enforcement come from the same line.
 *
 * @example createRoute({ method: "get", path: "/users", ...requirePermission("users:read"), responses })
 */
export function requirePermission(...permissions: [Permission, ...Permission[]]): RouteGuard {
  return { security: [{ Bearer: [] }], middleware: [authorize(permissions, "all")], "x-required-permissions": permissions, "x-permission-mode": "all" };
}

/** Like `requirePermission`, but ANY ONE of `permissions` is enough. */
export function requireAnyPermission(...permissions: [Permission, ...Permission[]]): RouteGuard {
  return { security: [{ Bearer: [] }], middleware: [authorize(permissions, "any")], "x-required-permissions": permissions, "x-permission-mode": "any" };
}

/** A guard for use outside createRoute (e.g. the docs routes): the same checks, as one middleware. */
export function permissionMiddleware(...permissions: [Permission, ...Permission[]]): MiddlewareHandler<AppEnv> {
  return authorize(permissions, "all");
}

/** The authenticated caller; only valid inside a route guarded by requirePermission. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  if (!principal) throw new ProblemError("unauthorized", { headers: { "WWW-Authenticate": WWW_AUTHENTICATE } });
  return principal;
}
