import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent, PUBLIC_ACCESS } from "../../lib/openapi";
import { withRateLimit } from "../../lib/rate-limit/openapi";
import type { PolicyName } from "../../lib/rate-limit/policies";
import { rateLimit } from "../../middleware/rate-limit";
import { normalizeEmail } from "../../lib/email";
import { authDeps } from "./auth.context";
import { issueDeviceToken } from "./device-token";
import { trustedLoginDevice, untrustedLoginEmail } from "./login-limits";
import { LoginResultSchema } from "../mfa/mfa.schemas";
import { AcceptedSchema, EmailBodySchema, LoginBodySchema, RegisterBodySchema, TokenBodySchema } from "./auth.schemas";
import { login, register, resendVerification, verifyEmail } from "./auth.service";

export const authRoutes = new OpenAPIHono<AppEnv>();

const REGISTER_LIMITS = ["register_ip", "register_email"] as const satisfies PolicyName[];
const VERIFY_LIMITS = ["verify_email_ip"] as const satisfies PolicyName[];
const RESEND_LIMITS = ["resend_verification_ip", "resend_verification_email"] as const satisfies PolicyName[];
// The limiter runs before the password is hashed: a guess costs the attacker a request, not us a hash.
// Per-IP and per-network limits run in their own middleware first: a request they refuse never
// reaches the shared email shards. Then either the account's counter (unknown clients) or the
// device's own (a valid device_token), never both.
const LOGIN_NETWORK_LIMITS = ["login_ip", "login_network"] as const satisfies PolicyName[];
const LOGIN_ACCOUNT_LIMITS = ["login_account", "login_device"] as const satisfies PolicyName[];

const ACCEPTED = {
  status: "accepted" as const,
  message: "If the address can receive mail, a message is on its way.",
};

const registerUser = createRoute({
  method: "post",
  path: "/auth/register",
  operationId: "registerUser",
  tags: ["Auth"],
  summary: "Create an account (the same 202 whether or not the email is taken)",
  security: PUBLIC_ACCESS,
  // register_email bounds the mails one address receives, whoever sends the registrations.
  middleware: [rateLimit({ policies: REGISTER_LIMITS, email: "body.email" })] as const,
  request: { body: jsonBody(RegisterBodySchema) },
  responses: withRateLimit({ ...errorResponses(429), 202: jsonContent(AcceptedSchema, "Accepted; check the mailbox") }, REGISTER_LIMITS),
});

authRoutes.openapi(registerUser, async (c) => {
  await register(authDeps(c), c.req.valid("json"));
  return c.json(ACCEPTED, 202);
});

const verifyEmailAddress = createRoute({
  method: "post",
  path: "/auth/verify-email",
  operationId: "verifyEmail",
  tags: ["Auth"],
  summary: "Confirm an email address with the single-use token from the verification email",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: VERIFY_LIMITS })] as const,
  request: { body: jsonBody(TokenBodySchema) },
  responses: withRateLimit({ ...errorResponses(429), 204: { description: "Verified" } }, VERIFY_LIMITS),
});

authRoutes.openapi(verifyEmailAddress, async (c) => {
  await verifyEmail(authDeps(c), c.req.valid("json").token);
  return c.body(null, 204);
});

const resendVerificationEmail = createRoute({
  method: "post",
  path: "/auth/resend-verification",
  operationId: "resendVerification",
  tags: ["Auth"],
  summary: "Send a new verification email (the same 202 for every address)",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: RESEND_LIMITS, email: "body.email" })] as const,
  request: { body: jsonBody(EmailBodySchema) },
  responses: withRateLimit({ ...errorResponses(429), 202: jsonContent(AcceptedSchema, "Accepted") }, RESEND_LIMITS),
});

authRoutes.openapi(resendVerificationEmail, (c) => {
  resendVerification(authDeps(c), c.req.valid("json").email);
  return c.json(ACCEPTED, 202);
});

const loginUser = createRoute({
  method: "post",
  path: "/auth/login",
  operationId: "login",
  tags: ["Auth"],
  summary: "Exchange email and password for an access token and a refresh token (or an MFA step)",
  description:
    "Unknown emails and wrong passwords get the same 401. Disabled, unverified and unapproved " +
    "accounts get a 403 only after the password was right. Repeated failures for one account lock it (429) " +
    "for clients without a `device_token` for it; a client that sends the `device_token` of an earlier " +
    "successful sign-in has its own failure counter, so others cannot lock it out. " +
    "An account with a second factor gets no tokens (a `device_token` never skips the second factor): the 200 " +
    "body is `mfa_required` with a single-use `mfa_token` for POST /auth/mfa/verify, which answers the tokens and the `device_token`.",
  security: PUBLIC_ACCESS,
  middleware: [
    rateLimit({ policies: LOGIN_NETWORK_LIMITS }),
    rateLimit({ policies: LOGIN_ACCOUNT_LIMITS, email: untrustedLoginEmail, custom: trustedLoginDevice }),
  ] as const,
  request: { body: jsonBody(LoginBodySchema) },
  responses: withRateLimit(
    { ...errorResponses(401, 403, 429), 200: jsonContent(LoginResultSchema, "Signed in, or the password was right and a second factor is required") },
    [...LOGIN_NETWORK_LIMITS, ...LOGIN_ACCOUNT_LIMITS],
  ),
});

authRoutes.openapi(loginUser, async (c) => {
  const { email, password } = c.req.valid("json");
  const deps = authDeps(c);
  const result = await login(deps, email, password);
  c.header("Cache-Control", "no-store");
  // The device token comes with the tokens only: a login waiting for its second factor has not signed in yet.
  if ("status" in result) return c.json(result, 200);
  const device_token = await issueDeviceToken(deps.config, normalizeEmail(email), deps.now);
  return c.json({ ...result, device_token }, 200);
});
