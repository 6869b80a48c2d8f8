import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Config } from "../../env";
import { APP_VERSION } from "../../version";

const cache = new WeakMap<object, unknown>();

/** Registers what every document shares; called once when the app is created. */
export function registerOpenApiComponents(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A short-lived access token from POST /api/v1/auth/login or /auth/refresh.",
  });
}

/**
 * The OpenAPI 3.1 document generated from the route definitions, built once per app and
 * configuration (generation walks every schema, which is too slow to repeat per request).
 */
export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, config: Config): unknown {
  const cached = cache.get(config);
  if (cached) return cached;
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Edge Auth API",
      version: APP_VERSION,
      description:
        "Authentication and role-based access control at the edge. Every error is an RFC 9457 " +
        "`application/problem+json` body with a stable `code`; see `GET /problems/{code}`.",
      license: { name: "Proprietary" },
      contact: { name: "Platform team", url: `${config.PUBLIC_BASE_URL}/docs` },
    },
    servers: [{ url: config.PUBLIC_BASE_URL, description: config.ENVIRONMENT }],
    tags: [
      { name: "Health", description: "Liveness and readiness probes" },
      { name: "Problems", description: "The catalog of error types" },
      { name: "Auth", description: "Registration, login, tokens and sessions" },
      { name: "Users", description: "Profiles and user administration" },
      { name: "Roles", description: "Roles and their permissions" },
      { name: "Permissions", description: "The permission catalog" },
      { name: "Audit", description: "The security audit log" },
      { name: "Files", description: "Uploads stored in R2" },
    ],
  });
  cache.set(config, document);
  return document;
}
