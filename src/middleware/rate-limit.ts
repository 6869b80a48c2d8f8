import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../bindings";
import { clientIp } from "../lib/client-ip";
import { normalizeEmail } from "../lib/email";
import { type AppliedRateLimits, enforceRateLimits, type RateLimitCheck, writeRateLimitHeaders } from "../lib/rate-limit/enforce";
import { networkBucket } from "../lib/rate-limit/keys";
import { type KeyKind, type PolicyName, rateLimitPolicies } from "../lib/rate-limit/policies";
import { AUTH_GUARD, credentialVerifies, onAuthenticated } from "./auth";

/**
 * Where a key comes from: `body.<field>` (dots for nesting) reads the buffered JSON body,
 * `query.<name>`, `param.<name>` and `header.<name>` read the request, or a function decides.
 * An absent or non-string value means "no key": that policy is not applied to the request
 * (the route's validation rejects such a request anyway).
 */
export type KeySource =
  | `body.${string}`
  | `query.${string}`
  | `param.${string}`
  | `header.${string}`
  | ((c: Context<AppEnv>) => string | undefined | Promise<string | undefined>);

export interface RateLimitOptions {
  /** Policies from the catalog (src/lib/rate-limit/policies.ts); their key kinds say what is counted. */
  policies: readonly PolicyName[];
  /** The email for `email` policies; normalized (trim, NFKC, lower-case) before hashing. */
  email?: KeySource;
  /** The session id for `session` policies. */
  session?: KeySource;
  /** The key for `custom` policies. */
  custom?: KeySource;
  /** The user id for `user` policies; defaults to the id the auth middleware verified. */
  user?: KeySource;
}

const bodyCache = new WeakMap<object, Promise<unknown>>();

/** Marks the middleware `rateLimit()` returns, so the global middleware can find it on a route. */
const ROUTE_LIMITER = Symbol("rateLimit");

/** Requests whose api_anonymous check the route's own `rateLimit()` performs. */
const deferredAnonymous = new WeakSet<object>();

/**
 * Whether the matched route has a `rateLimit()` middleware that runs before any auth guard. Only
 * then may the anonymous check be handed to it: a guard that answers 401 first (a junk bearer
 * token) would otherwise let the request escape every limit.
 */
function hasRouteLimiterFirst(c: Context<AppEnv>): boolean {
  try {
    for (const route of matchedRoutes(c)) {
      if (AUTH_GUARD in route.handler) return false;
      if (ROUTE_LIMITER in route.handler) return true;
    }
    return false;
  } catch {
    return false;
  }
}

/** The JSON body, parsed once per request from a clone (the pipeline has buffered it); for key functions. */
export function jsonBodyOf(c: Context<AppEnv>): Promise<unknown> {
  let body = bodyCache.get(c);
  if (!body) {
    body = c.req.raw.clone().json().catch(() => undefined);
    bodyCache.set(c, body);
  }
  return body;
}

async function readKey(c: Context<AppEnv>, source: KeySource): Promise<string | undefined> {
  if (typeof source === "function") return source(c);
  const dot = source.indexOf(".");
  const where = source.slice(0, dot);
  const name = source.slice(dot + 1);
  let value: unknown;
  if (where === "body") {
    value = await jsonBodyOf(c);
    for (const part of name.split(".")) {
      value = value !== null && typeof value === "object" && Object.hasOwn(value, part) ? (value as Record<string, unknown>)[part] : undefined;
    }
  } else if (where === "query") value = c.req.query(name);
  else if (where === "param") value = c.req.param(name);
  else value = c.req.header(name);
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

async function keyFor(c: Context<AppEnv>, kind: KeyKind, options: RateLimitOptions): Promise<string | undefined> {
  switch (kind) {
    case "ip":
      return clientIp(c.req.raw);
    case "network":
      return networkBucket(clientIp(c.req.raw));
    case "user":
      return options.user ? readKey(c, options.user) : c.get("userId");
    case "email": {
      const email = options.email ? await readKey(c, options.email) : undefined;
      const normalized = email === undefined ? "" : normalizeEmail(email);
      return normalized.length > 0 ? normalized : undefined;
    }
    case "session":
      return options.session ? readKey(c, options.session) : undefined;
    case "custom":
      return options.custom ? readKey(c, options.custom) : undefined;
  }
}

/**
 * Route middleware: applies `policies` before the handler and puts the RateLimit fields on the
 * response. Declare it in `createRoute` (with `withRateLimit` on the responses) so the document
 * shows it. `countOnly` policies (the login failure counter) are settled from the response status.
 *
 * @example
 * createRoute({ ..., middleware: [rateLimit({ policies: ["login_ip", "login_account"], email: "body.email" })] as const,
 *   responses: withRateLimit({ 200: ..., ...errorResponses(401) }, ["login_ip", "login_account"]) })
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  for (const name of options.policies) {
    const kind = rateLimitPolicies[name].key as KeyKind;
    if ((kind === "email" || kind === "session" || kind === "custom") && !options[kind]) {
      throw new Error(`rateLimit: policy ${name} is keyed by ${kind}; pass options.${kind}`);
    }
  }
  const middleware = createMiddleware<AppEnv>(async (c, next) => {
    const checks: RateLimitCheck[] = [];
    // The global api_anonymous check, handed over so that one call per key covers both.
    if (deferredAnonymous.delete(c)) checks.push({ policy: "api_anonymous", key: clientIp(c.req.raw) });
    for (const policy of options.policies) {
      const key = await keyFor(c, rateLimitPolicies[policy].key, options);
      if (key !== undefined) checks.push({ policy, key });
    }
    const applied: AppliedRateLimits = await enforceRateLimits(c, checks);
    try {
      await next();
    } catch (error) {
      // An error that escaped onError (notFound throws past middleware): not a failed credential
      // check. Headers set now are merged into the response onError builds.
      await applied.settle(500);
      writeRateLimitHeaders(c);
      throw error;
    }
    await applied.settle(c.res.status);
    writeRateLimitHeaders(c);
  });
  return Object.assign(middleware, { [ROUTE_LIMITER]: true });
}

/**
 * `api_anonymous` per client IP for every /api request without an Authorization header
 * (authenticated requests are limited per user by the auth middleware instead), and the
 * RateLimit fields of every policy applied to the request on its final response. On a route with
 * its own `rateLimit()` the check is handed to it, so the client's IP object gets one call with
 * every IP policy instead of two.
 */
export const apiRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  // Only a token that verifies moves the request to the per-user limit; an Authorization header
  // alone (junk, expired, forged) must not be a way around the per-IP limit.
  if (!c.req.header("Authorization") || !(await credentialVerifies(c))) {
    if (hasRouteLimiterFirst(c)) deferredAnonymous.add(c);
    else await enforceRateLimits(c, [{ policy: "api_anonymous", key: clientIp(c.req.raw) }]);
  }
  try {
    await next();
  } finally {
    // Also when an error passes through (notFound throws past middleware): the headers set here
    // are merged into the response onError builds.
    writeRateLimitHeaders(c);
  }
});

// Authenticated API traffic is limited per user (per API key for key callers: each key has its own
// budget, so one busy integration cannot starve its owner's interactive use) as soon as the auth
// middleware knows who calls.
onAuthenticated(async (c, principal) => {
  await enforceRateLimits(c, [principal.apiKeyId ? { policy: "api_key", key: principal.apiKeyId } : { policy: "api_user", key: principal.userId }]);
});
