import type { OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../bindings";
import { ProblemError } from "../lib/problem";

/** `METHOD /hono/:path` → the query parameter names the route documents. */
type QueryAllowlist = Map<string, ReadonlySet<string>>;

/** Query parameter names of a route's `request.query` schema (a zod object), none when it has no query. */
function queryNames(query: unknown): string[] {
  const shape = (query as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

function buildAllowlist(app: OpenAPIHono<AppEnv>): QueryAllowlist {
  const allowlist: QueryAllowlist = new Map();
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const { method, path, request } = definition.route;
    const honoPath = path.replace(/\{([^}]+)\}/g, ":$1");
    allowlist.set(`${method.toUpperCase()} ${honoPath}`, new Set(queryNames(request?.query)));
  }
  return allowlist;
}

/**
 * Unknown query parameters are a 422 naming each, on every documented route: a filter the API
 * does not know (`GET /users?email=…`) must not silently widen the answer to everything. The
 * allowed names come from each route's own query schema in the OpenAPI registry, so a new route
 * is covered without doing anything. Routes outside the document (the docs pages) are left alone.
 * Runs before the route's guard: the names a route accepts are public in its document anyway.
 */
export function strictQuery(app: OpenAPIHono<AppEnv>) {
  let allowlist: QueryAllowlist | undefined;
  return createMiddleware<AppEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    if (url.search.length <= 1 || c.req.method === "OPTIONS") return next();
    // Built on first use: every module is mounted by then.
    allowlist ??= buildAllowlist(app);
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    // The first matching documented route is the one that answers (handlers do not fall through).
    const allowed = matchedRoutes(c)
      .filter((route) => route.method === method)
      .map((route) => allowlist!.get(`${method} ${route.path}`))
      .find((names) => names !== undefined);
    if (!allowed) return next();
    const unknown = [...new Set(url.searchParams.keys())].filter((name) => !allowed.has(name));
    if (unknown.length > 0) {
      // Bounded: a request cannot make the problem body as large as its query string.
      const shown = unknown.slice(0, 20).map((name) => name.slice(0, 64));
      throw new ProblemError("validation_failed", {
        detail: `Unknown query parameter${shown.length > 1 ? "s" : ""}: ${shown.join(", ")}.${allowed.size > 0 ? ` Known: ${[...allowed].join(", ")}.` : " This operation takes none."}`,
        errors: shown.map((name) => ({ path: `query.${name}`, message: "unknown query parameter" })),
        extensions: { unknown_parameters: shown },
      });
    }
    await next();
  });
}
