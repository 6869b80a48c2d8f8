import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import type { Config, Environment } from "../../config";
import { applyConfigBounds } from "../../lib/config-bounds";
import { responseHeaderComponents } from "../../lib/openapi";
import { APP_VERSION } from "../../version";

const cache = new WeakMap<object, unknown>();

/** Registers what every document shares; called once when the app is created. */
export function registerOpenApiComponents(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    description:
      "A short-lived access token from POST /api/v1/auth/login or /auth/refresh: a JWS signed with " +
      "EdDSA or ES256, `typ: at+jwt`. Verified following RFC8725 (JWT Best Current Practices): the " +
      "algorithm list is pinned (never `none`), the `kid` must name a known key, `jku`/`x5u`/`jwk` " +
      "headers are never followed, and `iss`, `aud`, `exp` and `typ` are checked. Responses to " +
      "authenticated requests carry `X-D1-Bookmark`; send it back as a request header to read at " +
      "least that fresh a copy of the data (your own writes) when reads are served by a replica. " +
      "Or an API key (`eak_…`, POST /api/v1/api-keys): it acts with its scopes ∩ its owner's current permissions.",
  });
}

/** Server descriptions name the environment in the words API inventories expect. */
const serverDescriptions: Record<Environment, string> = {
  development: "local development",
  test: "test",
  staging: "staging",
  production: "production",
};

export type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);
const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

type SharedHeader = keyof typeof responseHeaderComponents;
const headerRef = (name: SharedHeader) => ({ $ref: `#/components/headers/${name}` });

/**
 * A shared header a route declared inline keeps its own description (e.g. what RateLimit means on
 * a 429) but gets the shared schema, so every route documents the same bounded type.
 */
function sharedHeader(name: SharedHeader, declared: unknown) {
  if (!isObject(declared) || "$ref" in declared) return declared ?? headerRef(name);
  const description = typeof declared.description === "string" ? declared.description : undefined;
  return { ...responseHeaderComponents[name], ...(description ? { description } : {}) };
}

/**
 * Adds the headers the pipeline sets to every response: X-Request-Id and the CORS origin on all of
 * them; on routes that declare a 429 (rate-limited routes) the RateLimit fields on 2xx/4xx answers
 * and Retry-After on the 429. Done here, once, so no route definition can leave them out.
 */
function addPipelineHeaders(document: JsonObject): void {
  const components = (document.components ??= {}) as JsonObject;
  components.headers = { ...(components.headers as JsonObject | undefined), ...responseHeaderComponents };
  for (const pathItem of Object.values((document.paths ?? {}) as JsonObject)) {
    if (!isObject(pathItem)) continue;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!isObject(operation) || !isObject(operation.responses)) continue;
      const responses = operation.responses;
      const rateLimited = "429" in responses;
      for (const [status, response] of Object.entries(responses)) {
        if (!isObject(response) || "$ref" in response) continue;
        // Fresh objects: route definitions may share one response or headers object between statuses.
        const headers: JsonObject = { ...(response.headers as JsonObject | undefined) };
        responses[status] = { ...response, headers };
        const wanted: SharedHeader[] = ["X-Request-Id", "Access-Control-Allow-Origin"];
        if (rateLimited && /^[24]/.test(status)) wanted.push("RateLimit", "RateLimit-Policy");
        if (status === "429") wanted.push("Retry-After");
        for (const name of Object.keys(responseHeaderComponents) as SharedHeader[]) {
          if (wanted.includes(name) || name in headers) headers[name] = sharedHeader(name, headers[name]);
        }
      }
    }
  }
}

/** Lengths a string format fixes by itself (zod's uuid pattern is exactly 36 characters). */
const IMPLIED_MAX_LENGTH: Record<string, number> = { uuid: 36 };

/**
 * Fills in what a schema's own constraints already imply, so zod definitions stay short: integer
 * schemas with both bounds get the `format` those bounds fit (int32 or int64), which zod's
 * `.int().min().max()` does not emit; uuid strings get their fixed maxLength.
 */
function addImpliedConstraints(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) addImpliedConstraints(item);
    return;
  }
  if (!isObject(node)) return;
  if (node.type === "integer" && node.format === undefined && typeof node.minimum === "number" && typeof node.maximum === "number") {
    node.format = node.minimum >= INT32.min && node.maximum <= INT32.max ? "int32" : "int64";
  }
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes("string") && typeof node.format === "string" && node.maxLength === undefined) {
    const implied = IMPLIED_MAX_LENGTH[node.format];
    if (implied !== undefined) node.maxLength = implied;
  }
  for (const value of Object.values(node)) addImpliedConstraints(value);
}

/**
 * The conventions every generated document gets (see addPipelineHeaders and addImpliedConstraints);
 * mutates `document` in place.
 */
export function applyDocumentConventions(document: JsonObject): void {
  addPipelineHeaders(document);
  addImpliedConstraints(document.components);
  addImpliedConstraints(document.paths);
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
    servers: [
      {
        url: config.PUBLIC_BASE_URL,
        description: serverDescriptions[config.ENVIRONMENT],
        // Only production serves the public; every other deployment is for the team.
        "x-internal": config.ENVIRONMENT !== "production",
      },
    ],
    tags: [
      { name: "Health", description: "Liveness and readiness probes" },
      { name: "Problems", description: "The catalog of error types" },
      { name: "Auth", description: "Registration, login, tokens and sessions" },
      { name: "Users", description: "Profiles and user administration" },
      { name: "Roles", description: "Roles and their permissions" },
      { name: "Permissions", description: "The permission catalog" },
      { name: "Audit", description: "The security audit log" },
      { name: "Files", description: "Uploads stored in R2" },
      { name: "API keys", description: "Personal and service-account API keys (`Authorization: Bearer eak_…`)" },
      { name: "Service accounts", description: "Non-human principals with roles; they act only through API keys" },
      { name: "OAuth", description: "Discovery (RFC 8414), introspection (RFC 7662) and revocation (RFC 7009)" },
      { name: "Metrics", description: "Service counters for dashboards and alerts" },
      { name: "Dev", description: "Development helpers; absent unless MAIL_TRANSPORT=capture (never in staging or production)" },
    ],
  }) as unknown as JsonObject;
  applyDocumentConventions(document);
  applyConfigBounds(document.paths, config);
  applyConfigBounds(document.components, config);
  cache.set(config, document);
  return document;
}
