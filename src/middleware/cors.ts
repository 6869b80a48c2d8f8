import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { ProblemError } from "../lib/problem";

export const CORS_ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";
// X-D1-Bookmark: the read-your-writes token of read replication (src/middleware/read-session.ts).
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id, If-None-Match, Range, X-D1-Bookmark";
const EXPOSE_HEADERS =
  "X-Request-Id, RateLimit, RateLimit-Policy, Retry-After, ETag, Content-Disposition, Content-Range, Location, WWW-Authenticate, X-D1-Bookmark";

/**
 * CORS from the CORS_ORIGINS allowlist. Only an exactly listed origin is echoed: never `*`, never
 * the `null` origin (sandboxed iframes, file: pages). Credentials (cookies) are not used by this
 * API, so `Access-Control-Allow-Credentials` is never sent. Preflights are cached for 10 minutes.
 */
export const cors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("Origin");
  const allowed = origin !== undefined && origin !== "null" && c.get("config").CORS_ORIGINS.includes(origin);
  const isPreflight = c.req.method === "OPTIONS" && origin !== undefined && c.req.header("Access-Control-Request-Method") !== undefined;

  if (isPreflight) {
    if (!allowed) {
      throw new ProblemError("forbidden", { detail: "This origin is not allowed to call the API.", headers: { Vary: "Origin" } });
    }
    return new Response(null, {
      status: 204,
      headers: {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": "600",
        Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      },
    });
  }

  await next();
  const headers = c.res.headers;
  headers.append("Vary", "Origin");
  if (allowed) {
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  }
});
