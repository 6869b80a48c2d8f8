import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { requireAssurance, sessionPrincipalOf } from "../../middleware/assurance";
import { principalOf, requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { IdParamSchema, PasskeyListSchema, PasskeyRegisteredSchema, PasskeyRegistrationBodySchema, PasskeyRenameBodySchema, PasskeySchema, WebAuthnOptionsResultSchema } from "./mfa.schemas";
import { deletePasskey, finishPasskeyRegistration, listPasskeys, renamePasskey, startPasskeyRegistration } from "./passkeys.service";

export const passkeyRoutes = new OpenAPIHono<AppEnv>();

const manageFactors = requireAssurance("aal2", requirePermission("account:security"));

const listMyPasskeys = createRoute({
  method: "get",
  path: "/auth/passkeys",
  operationId: "listPasskeys",
  tags: ["MFA"],
  summary: "The caller's passkeys, newest first",
  ...requirePermission("profile:read"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(PasskeyListSchema, "Passkeys") },
});

passkeyRoutes.openapi(listMyPasskeys, async (c) => {
  c.header("Cache-Control", "no-store");
  return c.json({ items: await listPasskeys(authDeps(c), principalOf(c).userId) }, 200);
});

const registrationOptions = createRoute({
  method: "post",
  path: "/auth/passkeys/registration/options",
  operationId: "passkeyRegistrationOptions",
  tags: ["MFA"],
  summary: "WebAuthn creation options for a new passkey (the challenge is bound to this session, single-use)",
  ...manageFactors,
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(WebAuthnOptionsResultSchema, "Options for navigator.credentials.create()") },
});

passkeyRoutes.openapi(registrationOptions, async (c) => {
  const options = await startPasskeyRegistration(authDeps(c), sessionPrincipalOf(c));
  c.header("Cache-Control", "no-store");
  return c.json({ options: options as unknown as Record<string, unknown> }, 200);
});

const registerPasskey = createRoute({
  method: "post",
  path: "/auth/passkeys/registration",
  operationId: "registerPasskey",
  tags: ["MFA"],
  summary: "Store a new passkey from the authenticator's response; the account's first factor also gets recovery codes",
  ...requirePermission("account:security"),
  request: { body: jsonBody(PasskeyRegistrationBodySchema) },
  responses: { ...errorResponses(400, 401, 403, 409, 429), 201: jsonContent(PasskeyRegisteredSchema, "Registered") },
});

passkeyRoutes.openapi(registerPasskey, async (c) => {
  const { name, credential } = c.req.valid("json");
  const result = await finishPasskeyRegistration(authDeps(c), sessionPrincipalOf(c), name, credential);
  c.header("Cache-Control", "no-store");
  return c.json(result, 201);
});

const renameMyPasskey = createRoute({
  method: "patch",
  path: "/auth/passkeys/{id}",
  operationId: "renamePasskey",
  tags: ["MFA"],
  summary: "Rename one of the caller's passkeys",
  ...requirePermission("account:security"),
  request: { params: IdParamSchema, body: jsonBody(PasskeyRenameBodySchema) },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(PasskeySchema, "Renamed") },
});

passkeyRoutes.openapi(renameMyPasskey, async (c) => {
  const passkey = await renamePasskey(authDeps(c), sessionPrincipalOf(c), c.req.valid("param").id, c.req.valid("json").name);
  return c.json(passkey, 200);
});

const deleteMyPasskey = createRoute({
  method: "delete",
  path: "/auth/passkeys/{id}",
  operationId: "deletePasskey",
  tags: ["MFA"],
  summary: "Delete one of the caller's passkeys (recovery codes go too when it was the last factor)",
  ...manageFactors,
  request: { params: IdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "Deleted" } },
});

passkeyRoutes.openapi(deleteMyPasskey, async (c) => {
  await deletePasskey(authDeps(c), sessionPrincipalOf(c), c.req.valid("param").id);
  return c.body(null, 204);
});
