/** Which methods a path supports, derived from the app's own route table (for 405 and OPTIONS). */

interface RouteEntry {
  method: string;
  path: string;
}

interface CompiledRoute {
  method: string;
  pattern: RegExp;
}

function compile(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  // Strict like Hono's router: "/health/" is not "/health", so it must not be offered as such.
  return new RegExp(`^${source}$`);
}

const compiledTables = new WeakMap<readonly RouteEntry[], { size: number; table: CompiledRoute[] }>();

/**
 * The methods routed for `path`, with HEAD implied by GET and OPTIONS always allowed.
 * Middleware entries (method ALL) and wildcard catch-alls are not routes and are ignored.
 *
 * @example allowedMethods(app.routes, "/health") // ["GET", "HEAD", "OPTIONS"]
 */
export function allowedMethods(routes: readonly RouteEntry[], path: string): string[] {
  let compiled = compiledTables.get(routes);
  // An app's route list grows in place while modules are mounted; recompile when it did.
  if (compiled?.size !== routes.length) {
    const table = routes
      .filter((route) => route.method !== "ALL" && route.path !== "/*")
      .map((route) => ({ method: route.method.toUpperCase(), pattern: compile(route.path) }));
    compiled = { size: routes.length, table };
    compiledTables.set(routes, compiled);
  }
  const { table } = compiled;
  const methods = new Set(table.filter((route) => route.pattern.test(path)).map((route) => route.method));
  if (methods.size === 0) return [];
  if (methods.has("GET")) methods.add("HEAD");
  methods.add("OPTIONS");
  return [...methods].sort();
}
