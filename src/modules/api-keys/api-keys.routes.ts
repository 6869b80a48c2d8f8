import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { requireAssurance } from "../../middleware/assurance";
import { principalOf, requireAnyPermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { ApiKeyIdParamSchema, ApiKeyPageSchema, ApiKeySchema, CreateApiKeySchema, CreatedApiKeySchema, ListApiKeysQuerySchema, RotateApiKeySchema } from "./api-keys.schemas";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "./api-keys.service";

/** API keys: one's own with account:security; anyone's (users and service accounts) with api_keys:manage. */
export const apiKeyRoutes = new OpenAPIHono<AppEnv>();

const guard = () => requireAnyPermission("account:security", "api_keys:manage");
/** Minting a credential needs a fresh second factor (when the caller has one), as in docs/mfa.md. */
const mintGuard = () => requireAssurance("aal2", guard());
const OTHERS = "Keys of another owner need api_keys:manage (404 for a key you may not see).";

const createApiKeyRoute = createRoute({
  method: "post",
  path: "/api-keys",
  operationId: "createApiKey",
  tags: ["API keys"],
  summary: "Create an API key (the secret is in this response only)",
  description:
    "Scopes must be permissions you hold (403 `escalation_denied`) and the owner holds (422); the key acts with its scopes ∩ " +
    `the owner's current permissions. Only a session can create keys, not another key (403 \`session_required\`), ` +
    `and one with a second factor verified within MFA_STEP_UP_WINDOW when the caller has a factor (401 \`step_up_required\`). ${OTHERS}`,
  ...mintGuard(),
  request: { body: jsonBody(CreateApiKeySchema) },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 201: jsonContent(CreatedApiKeySchema, "The new key, with its secret") },
});

apiKeyRoutes.openapi(createApiKeyRoute, async (c) => {
  const created = await createApiKey(authDeps(c), principalOf(c), c.req.valid("json"));
  c.header("Location", `/api/v1/api-keys/${created.id}`);
  c.header("Cache-Control", "no-store");
  return c.json(created, 201);
});

const listApiKeysRoute = createRoute({
  method: "get",
  path: "/api-keys",
  operationId: "listApiKeys",
  tags: ["API keys"],
  summary: "List API keys, newest first (yours, or an owner's with api_keys:manage)",
  ...guard(),
  request: { query: ListApiKeysQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(ApiKeyPageSchema, "One page of keys") },
});

apiKeyRoutes.openapi(listApiKeysRoute, async (c) => {
  const page = await listApiKeys(authDeps(c), principalOf(c), c.req.valid("query"));
  c.header("Cache-Control", "no-store");
  return c.json(page, 200);
});

const getApiKeyRoute = createRoute({
  method: "get",
  path: "/api-keys/{id}",
  operationId: "getApiKey",
  tags: ["API keys"],
  summary: "One API key (never its secret)",
  description: OTHERS,
  ...guard(),
  request: { params: ApiKeyIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(ApiKeySchema, "The key") },
});

apiKeyRoutes.openapi(getApiKeyRoute, async (c) => {
  const key = await getApiKey(authDeps(c), principalOf(c), c.req.valid("param").id);
  c.header("Cache-Control", "no-store");
  return c.json(key, 200);
});

const revokeApiKeyRoute = createRoute({
  method: "delete",
  path: "/api-keys/{id}",
  operationId: "revokeApiKey",
  tags: ["API keys"],
  summary: "Revoke an API key; it stops working on the next request",
  description: `Idempotent. A key may revoke itself. ${OTHERS}`,
  ...guard(),
  request: { params: ApiKeyIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "Revoked" } },
});

apiKeyRoutes.openapi(revokeApiKeyRoute, async (c) => {
  await revokeApiKey(authDeps(c), principalOf(c), c.req.valid("param").id);
  return c.body(null, 204);
});

const rotateApiKeyRoute = createRoute({
  method: "post",
  path: "/api-keys/{id}/rotate",
  operationId: "rotateApiKey",
  tags: ["API keys"],
  summary: "Replace an API key by a new secret; the old one works for the overlap window",
  description: `The new key keeps the owner, name, scopes and lifetime length. Only a live key can be rotated (409). ${OTHERS}`,
  ...mintGuard(),
  request: { params: ApiKeyIdParamSchema, body: jsonBody(RotateApiKeySchema) },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 201: jsonContent(CreatedApiKeySchema, "The new key, with its secret") },
});

apiKeyRoutes.openapi(rotateApiKeyRoute, async (c) => {
  const created = await rotateApiKey(authDeps(c), principalOf(c), c.req.valid("param").id, c.req.valid("json").overlap_seconds);
  c.header("Location", `/api/v1/api-keys/${created.id}`);
  c.header("Cache-Control", "no-store");
  return c.json(created, 201);
});
