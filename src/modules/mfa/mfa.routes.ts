import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { withRateLimit } from "../../lib/rate-limit/openapi";
import type { PolicyName } from "../../lib/rate-limit/policies";
import { requireAssurance, sessionPrincipalOf } from "../../middleware/assurance";
import { principalOf, requirePermission } from "../../middleware/auth";
import { rateLimit } from "../../middleware/rate-limit";
import { authDeps } from "../auth/auth.context";
import { stepUp, stepUpPasskeyOptions } from "./mfa-login.service";
import { CodeBodySchema, MfaStatusSchema, RecoveryCodesSchema, StepUpBodySchema, StepUpResultSchema, TotpEnrollmentSchema, WebAuthnOptionsResultSchema } from "./mfa.schemas";
import { confirmTotp, mfaStatus, regenerateRecoveryCodes, removeTotp, startTotpEnrollment } from "./totp.service";

export const mfaRoutes = new OpenAPIHono<AppEnv>();

/** Changing one's factors needs a fresh second factor (when the account has one). */
const manageFactors = requireAssurance("aal2", requirePermission("account:security"));

const getMfaStatus = createRoute({
  method: "get",
  path: "/auth/mfa",
  operationId: "getMfaStatus",
  tags: ["MFA"],
  summary: "The caller's second factors: authenticator app, passkeys, recovery codes left",
  ...requirePermission("profile:read"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(MfaStatusSchema, "Second-factor status") },
});

mfaRoutes.openapi(getMfaStatus, async (c) => {
  c.header("Cache-Control", "no-store");
  return c.json(await mfaStatus(authDeps(c), principalOf(c).userId), 200);
});

const enrollTotp = createRoute({
  method: "post",
  path: "/auth/mfa/totp",
  operationId: "enrollTotp",
  tags: ["MFA"],
  summary: "Start setting up an authenticator app: a new secret and its otpauth:// URI (inactive until confirmed)",
  ...manageFactors,
  responses: { ...errorResponses(401, 403, 409, 429), 201: jsonContent(TotpEnrollmentSchema, "The secret, shown this once") },
});

mfaRoutes.openapi(enrollTotp, async (c) => {
  c.header("Cache-Control", "no-store");
  return c.json(await startTotpEnrollment(authDeps(c), principalOf(c).userId), 201);
});

const confirmTotpRoute = createRoute({
  method: "post",
  path: "/auth/mfa/totp/confirm",
  operationId: "confirmTotp",
  tags: ["MFA"],
  summary: "Activate the authenticator app with a code it shows; returns 10 new recovery codes (shown once)",
  ...manageFactors,
  request: { body: jsonBody(CodeBodySchema) },
  responses: { ...errorResponses(400, 401, 403, 409, 429), 200: jsonContent(RecoveryCodesSchema, "Active; the recovery codes") },
});

mfaRoutes.openapi(confirmTotpRoute, async (c) => {
  const principal = sessionPrincipalOf(c);
  const codes = await confirmTotp(authDeps(c), principal.userId, principal.sessionId, c.req.valid("json").code);
  c.header("Cache-Control", "no-store");
  return c.json({ recovery_codes: codes }, 200);
});

const removeTotpRoute = createRoute({
  method: "delete",
  path: "/auth/mfa/totp",
  operationId: "removeTotp",
  tags: ["MFA"],
  summary: "Remove the authenticator app (recovery codes go too when no passkey remains)",
  ...manageFactors,
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "Removed" } },
});

mfaRoutes.openapi(removeTotpRoute, async (c) => {
  const principal = sessionPrincipalOf(c);
  await removeTotp(authDeps(c), principal.userId, principal.sessionId);
  return c.body(null, 204);
});

const regenerateCodes = createRoute({
  method: "post",
  path: "/auth/mfa/recovery-codes",
  operationId: "regenerateRecoveryCodes",
  tags: ["MFA"],
  summary: "Replace every recovery code with 10 new ones (shown once)",
  ...manageFactors,
  responses: { ...errorResponses(401, 403, 409, 429), 200: jsonContent(RecoveryCodesSchema, "The new codes; the old ones no longer work") },
});

mfaRoutes.openapi(regenerateCodes, async (c) => {
  const principal = sessionPrincipalOf(c);
  const codes = await regenerateRecoveryCodes(authDeps(c), principal.userId, principal.sessionId);
  c.header("Cache-Control", "no-store");
  return c.json({ recovery_codes: codes }, 200);
});

const STEP_UP_LIMITS = ["mfa_account"] as const satisfies PolicyName[];
const stepUpGuard = requirePermission("account:security");

const stepUpRoute = createRoute({
  method: "post",
  path: "/auth/mfa/step-up",
  operationId: "stepUp",
  tags: ["MFA"],
  summary: "Prove a second factor again: the session counts as aal2 for MFA_STEP_UP_WINDOW seconds, then drops back",
  description: "Wrong proofs count against the account's second-factor limit (mfa_account), never against the password lock-out.",
  ...stepUpGuard,
  middleware: [...stepUpGuard.middleware, rateLimit({ policies: STEP_UP_LIMITS })] as const,
  request: { body: jsonBody(StepUpBodySchema) },
  responses: withRateLimit({ ...errorResponses(401, 403), 200: jsonContent(StepUpResultSchema, "An access token carrying acr aal2") }, STEP_UP_LIMITS),
});

mfaRoutes.openapi(stepUpRoute, async (c) => {
  const result = await stepUp(authDeps(c), sessionPrincipalOf(c), c.req.valid("json"));
  c.header("Cache-Control", "no-store");
  return c.json(result, 200);
});

const stepUpOptions = createRoute({
  method: "post",
  path: "/auth/mfa/step-up/options",
  operationId: "stepUpPasskeyOptions",
  tags: ["MFA"],
  summary: "WebAuthn request options for a step-up with a passkey (bound to this session)",
  ...requirePermission("account:security"),
  responses: { ...errorResponses(401, 403, 409, 429), 200: jsonContent(WebAuthnOptionsResultSchema, "Options for navigator.credentials.get()") },
});

mfaRoutes.openapi(stepUpOptions, async (c) => {
  const options = await stepUpPasskeyOptions(authDeps(c), sessionPrincipalOf(c));
  c.header("Cache-Control", "no-store");
  return c.json({ options: options as unknown as Record<string, unknown> }, 200);
});
