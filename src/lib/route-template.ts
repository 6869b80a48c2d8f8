import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/** The label of a request no route answered (404, 405): a fixed value, never the raw path. */
export const UNMATCHED_ROUTE = "unmatched";

const templates = new WeakMap<Context, string>();

/**
 * The route template that answered the request, in OpenAPI form (`/api/v1/users/{id}`), for logs
 * and metric labels. Hono matches every route whose pattern fits, in registration order, and the
 * first one with a method (middleware is registered as `ALL`) is the one whose handler runs: for
 * `GET /api/v1/users/me` that is `/users/me`, although `/users/:id` matches too and comes later.
 */
export function routeTemplate(c: Context): string {
  let template = templates.get(c);
  if (template === undefined) {
    const route = matchedRoutes(c).find((candidate) => candidate.method !== "ALL");
    template = route ? route.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}") : UNMATCHED_ROUTE;
    templates.set(c, template);
  }
  return template;
}
