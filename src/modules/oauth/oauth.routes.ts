import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonContent, PUBLIC_ACCESS } from "../../lib/openapi";
import { ProblemError } from "../../lib/problem";
import { principalOf, requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { AuthorizationServerMetadataSchema, IntrospectionRequestSchema, IntrospectionSchema, RevocationRequestSchema } from "./oauth.schemas";
import { authorizationServerMetadata, introspect, revokeToken } from "./oauth.service";

/** Discovery (RFC 8414), introspection (RFC 7662) and revocation (RFC 7009) for resource servers. */
export const oauthRoutes = new OpenAPIHono<AppEnv>();

const FORM = "application/x-www-form-urlencoded";

const metadataRoute = createRoute({
  method: "get",
  path: "/.well-known/oauth-authorization-server",
  operationId: "getAuthorizationServerMetadata",
  tags: ["OAuth"],
  summary: "Authorization server metadata (RFC 8414): issuer, JWKS, introspection and revocation endpoints",
  responses: { ...errorResponses(), 200: jsonContent(AuthorizationServerMetadataSchema, "The metadata") },
});

oauthRoutes.openapi(metadataRoute, async (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(await authorizationServerMetadata(c.get("config")), 200);
});

const introspectRoute = createRoute({
  method: "post",
  path: "/oauth/introspect",
  operationId: "introspectToken",
  tags: ["OAuth"],
  summary: "Is this token valid now, for whom, with which roles and permissions (RFC 7662)",
  description:
    "Authenticate with an API key holding tokens:introspect (an access token is refused with 403: introspection is for services). " +
    "Works for access tokens, refresh tokens and API keys, and reads D1, so an ended session, a disabled user, a removed role " +
    'or a revoked key shows at once. Anything not currently valid is `{"active": false}` with no reason.',
  ...requirePermission("tokens:introspect"),
  request: { body: { required: true, content: { [FORM]: { schema: IntrospectionRequestSchema } } } },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(IntrospectionSchema, "The token's state") },
});

oauthRoutes.openapi(introspectRoute, async (c) => {
  if (!principalOf(c).apiKeyId) {
    throw new ProblemError("forbidden", { detail: "Introspection is for services: authenticate with an API key that holds tokens:introspect." });
  }
  const result = await introspect(authDeps(c), c.req.valid("form").token);
  c.header("Cache-Control", "no-store");
  return c.json(result, 200);
});

const revokeRoute = createRoute({
  method: "post",
  path: "/oauth/revoke",
  operationId: "revokeToken",
  tags: ["OAuth"],
  summary: "Revoke a token you hold (RFC 7009): a refresh or access token ends its session, an API key revokes itself",
  description: "Possession of the token is the credential. Unknown, expired and already revoked tokens get the same 200.",
  security: PUBLIC_ACCESS,
  request: { body: { required: true, content: { [FORM]: { schema: RevocationRequestSchema } } } },
  responses: { ...errorResponses(429), 200: { description: "Revoked, or nothing to revoke" } },
});

oauthRoutes.openapi(revokeRoute, async (c) => {
  await revokeToken(authDeps(c), c.req.valid("form").token);
  c.header("Cache-Control", "no-store");
  return c.body(null, 200);
});
