import { swaggerUI } from "@hono/swagger-ui";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../bindings";
import type { Config } from "../../config";
import { ProblemError } from "../../lib/problem";

/** Where Swagger UI's files are served from the worker's own assets (see wrangler.toml [assets]). */
const VENDOR_BASE = "/docs/vendor";

const renderSwaggerUi = swaggerUI<AppEnv>({
  baseUrl: VENDOR_BASE,
  url: "/openapi.json",
  title: "Edge Auth API",
  persistAuthorization: false,
  // The validator badge would call a third-party service.
  validatorUrl: "none",
});

let docsPolicy: Promise<string> | undefined;

/**
 * The narrowest CSP that lets Swagger UI run: scripts and styles from this origin only, plus
 * the one inline bootstrap script pinned by its hash; inline style attributes are needed by
 * Swagger UI's rendering.
 */
async function docsContentSecurityPolicy(html: string): Promise<string> {
  const inline = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(inline));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  return [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * DOCS_PUBLIC=true serves the docs to anyone; otherwise `guard` decides (RBAC adds the
 * `docs:read` check); without a guard private docs answer 404.
 */
export function createDocsRoutes(document: (config: Config) => unknown, guard?: MiddlewareHandler<AppEnv>) {
  const docs = new OpenAPIHono<AppEnv>();
  const access: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.get("config").DOCS_PUBLIC) return next();
    if (!guard) throw new ProblemError("not_found");
    return guard(c, next);
  };

  // Built and serialised once per configuration (once per isolate): re-serialising ~100 KB of
  // JSON per request cost more than everything else the route does.
  const serialised = new WeakMap<Config, string>();
  docs.get("/openapi.json", access, (c) => {
    const config = c.get("config");
    let body = serialised.get(config);
    if (body === undefined) {
      body = JSON.stringify(document(config));
      serialised.set(config, body);
    }
    return c.body(body, 200, { "Content-Type": "application/json", "Cache-Control": "no-cache" });
  });

  docs.get("/docs", access, async (c, next) => {
    // swaggerUI returns its page rather than setting c.res, so read the returned response.
    const rendered = await renderSwaggerUi(c, next);
    const html = rendered instanceof Response ? await rendered.text() : "";
    docsPolicy ??= docsContentSecurityPolicy(html);
    return c.html(html, 200, { "Content-Security-Policy": await docsPolicy, "Cache-Control": "no-cache" });
  });

  docs.get(`${VENDOR_BASE}/*`, async (c) => {
    const response = await c.env.ASSETS.fetch(c.req.raw);
    if (!response.ok) throw new ProblemError("not_found");
    const copy = new Response(response.body, response);
    copy.headers.set("Cache-Control", "public, max-age=86400");
    return copy;
  });

  return docs;
}
