import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent, PUBLIC_ACCESS } from "../../lib/openapi";
import { withRateLimit } from "../../lib/rate-limit/openapi";
import type { PolicyName } from "../../lib/rate-limit/policies";
import { jsonBodyOf, rateLimit } from "../../middleware/rate-limit";
import { LoginResponseSchema } from "../auth/auth.schemas";
import { authDeps } from "../auth/auth.context";
import { loginPasskeyOptions, passkeySignIn, passkeySignInOptions, userOfMfaToken, verifyLoginSecondFactor } from "./mfa-login.service";
import { MfaTokenBodySchema, MfaVerifyBodySchema, PasskeyLoginBodySchema, SignedInSchema, WebAuthnOptionsResultSchema } from "./mfa.schemas";

export const mfaLoginRoutes = new OpenAPIHono<AppEnv>();

// Counted apart from login_ip/login_account: a wrong code never locks the password path, nor the reverse.
const VERIFY_LIMITS = ["mfa_verify_ip", "mfa_token", "mfa_account"] as const satisfies PolicyName[];
const OPTIONS_LIMITS = ["mfa_verify_ip"] as const satisfies PolicyName[];

async function mfaTokenOf(c: Context<AppEnv>): Promise<string | undefined> {
  const body = (await jsonBodyOf(c)) as { mfa_token?: unknown } | undefined;
  return typeof body?.mfa_token === "string" && body.mfa_token.length <= 128 ? body.mfa_token : undefined;
}

/** The account a presented mfa_token belongs to: wrong codes are counted per account across tokens. */
async function accountOfMfaToken(c: Context<AppEnv>): Promise<string | undefined> {
  const token = await mfaTokenOf(c);
  return token === undefined ? undefined : userOfMfaToken(authDeps(c), token);
}

const verifySecondFactor = createRoute({
  method: "post",
  path: "/auth/mfa/verify",
  operationId: "verifySecondFactor",
  tags: ["MFA"],
  summary: "Complete a login with its mfa_token and a second factor (TOTP code, recovery code or passkey)",
  description:
    "Issues the token pair (acr aal2). Wrong proofs answer 401 `invalid_mfa_code` and are limited per mfa_token " +
    "and per account, separately from the password lock-out. A recovery code signs in once and the answer says so: " +
    "set up a new authenticator. For a passkey, get the options from POST /auth/mfa/webauthn/options first.",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: VERIFY_LIMITS, custom: mfaTokenOf, user: accountOfMfaToken })] as const,
  request: { body: jsonBody(MfaVerifyBodySchema) },
  responses: withRateLimit({ ...errorResponses(401, 403, 429), 200: jsonContent(SignedInSchema, "Signed in") }, VERIFY_LIMITS),
});

mfaLoginRoutes.openapi(verifySecondFactor, async (c) => {
  const { mfa_token, ...proof } = c.req.valid("json");
  const result = await verifyLoginSecondFactor(authDeps(c), mfa_token, proof);
  c.header("Cache-Control", "no-store");
  return c.json(result, 200);
});

const loginWebAuthnOptions = createRoute({
  method: "post",
  path: "/auth/mfa/webauthn/options",
  operationId: "loginPasskeyOptions",
  tags: ["MFA"],
  summary: "WebAuthn request options for the second step of a login (the challenge is bound to the mfa_token)",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: OPTIONS_LIMITS })] as const,
  request: { body: jsonBody(MfaTokenBodySchema) },
  responses: withRateLimit({ ...errorResponses(401, 409, 429), 200: jsonContent(WebAuthnOptionsResultSchema, "Options for navigator.credentials.get()") }, OPTIONS_LIMITS),
});

mfaLoginRoutes.openapi(loginWebAuthnOptions, async (c) => {
  const options = await loginPasskeyOptions(authDeps(c), c.req.valid("json").mfa_token);
  c.header("Cache-Control", "no-store");
  return c.json({ options: options as unknown as Record<string, unknown> }, 200);
});

const passkeyLoginOptions = createRoute({
  method: "post",
  path: "/auth/passkeys/login/options",
  operationId: "passkeySignInOptions",
  tags: ["MFA"],
  summary: "WebAuthn request options for a passwordless sign-in with a discoverable passkey",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: OPTIONS_LIMITS })] as const,
  responses: withRateLimit({ ...errorResponses(429), 200: jsonContent(WebAuthnOptionsResultSchema, "Options for navigator.credentials.get()") }, OPTIONS_LIMITS),
});

mfaLoginRoutes.openapi(passkeyLoginOptions, async (c) => {
  const options = await passkeySignInOptions(authDeps(c));
  c.header("Cache-Control", "no-store");
  return c.json({ options: options as unknown as Record<string, unknown> }, 200);
});

const passkeyLogin = createRoute({
  method: "post",
  path: "/auth/passkeys/login",
  operationId: "passkeySignIn",
  tags: ["MFA"],
  summary: "Sign in with a passkey alone (user verification required): a session at aal2, amr [hwk|swk, user]",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: OPTIONS_LIMITS })] as const,
  request: { body: jsonBody(PasskeyLoginBodySchema) },
  responses: withRateLimit({ ...errorResponses(401, 403, 429), 200: jsonContent(LoginResponseSchema, "Signed in") }, OPTIONS_LIMITS),
});

mfaLoginRoutes.openapi(passkeyLogin, async (c) => {
  const tokens = await passkeySignIn(authDeps(c), c.req.valid("json").credential);
  c.header("Cache-Control", "no-store");
  return c.json(tokens, 200);
});
