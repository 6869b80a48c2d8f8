import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent, PUBLIC_ACCESS } from "../../lib/openapi";
import { withRateLimit } from "../../lib/rate-limit/openapi";
import type { PolicyName } from "../../lib/rate-limit/policies";
import { rateLimit } from "../../middleware/rate-limit";
import { requireAssurance } from "../../middleware/assurance";
import { principalOf, requirePermission } from "../../middleware/auth";
import { resetRateLimits } from "../../lib/rate-limit/reset";
import { authDeps } from "./auth.context";
import { AcceptedSchema, ChangePasswordBodySchema, EmailBodySchema, ResetPasswordBodySchema } from "./auth.schemas";
import { changePassword, forgotPassword, resetPassword } from "./password.service";

export const passwordRoutes = new OpenAPIHono<AppEnv>();

const FORGOT_LIMITS = ["password_forgot_ip", "password_forgot_email"] as const satisfies PolicyName[];
const RESET_LIMITS = ["password_reset_ip"] as const satisfies PolicyName[];

const requestPasswordReset = createRoute({
  method: "post",
  path: "/auth/password/forgot",
  operationId: "requestPasswordReset",
  tags: ["Auth"],
  summary: "Email a password-reset link (the same 202, with the same timing, for every address)",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: FORGOT_LIMITS, email: "body.email" })] as const,
  request: { body: jsonBody(EmailBodySchema) },
  responses: withRateLimit({ ...errorResponses(429), 202: jsonContent(AcceptedSchema, "Accepted") }, FORGOT_LIMITS),
});

passwordRoutes.openapi(requestPasswordReset, (c) => {
  forgotPassword(authDeps(c), c.req.valid("json").email);
  return c.json({ status: "accepted" as const, message: "If the address has an account, a reset link is on its way." }, 202);
});

const resetPasswordWithToken = createRoute({
  method: "post",
  path: "/auth/password/reset",
  operationId: "resetPassword",
  tags: ["Auth"],
  summary: "Set a new password with the single-use token from the reset email; ends every session",
  security: PUBLIC_ACCESS,
  middleware: [rateLimit({ policies: RESET_LIMITS })] as const,
  request: { body: jsonBody(ResetPasswordBodySchema) },
  responses: withRateLimit({ ...errorResponses(429), 204: { description: "The password is changed" } }, RESET_LIMITS),
});

passwordRoutes.openapi(resetPasswordWithToken, async (c) => {
  const { token, new_password } = c.req.valid("json");
  const email = await resetPassword(authDeps(c), token, new_password);
  // Whoever proved control of the mailbox gets the account back at once, lock-out or not.
  await resetRateLimits(c, [{ policy: "login_account", key: email }]);
  return c.body(null, 204);
});

const CHANGE_LIMITS = ["password_change_user", "password_change_hashes_user"] as const satisfies PolicyName[];
const changeGuard = requireAssurance("aal2", requirePermission("account:security"));

const changeMyPassword = createRoute({
  method: "post",
  path: "/auth/password/change",
  operationId: "changePassword",
  tags: ["Auth"],
  summary: "Change the caller's password; every other session ends",
  description:
    "The new password's policy is checked before the current password is hashed (422 costs no hash). Five wrong " +
    "current passwords within 15 minutes lock password changes for that user (429), and at most ten attempts an hour may reach the hash.",
  ...changeGuard,
  // The caller is known first, so the failure counter is keyed by the verified user id.
  middleware: [...changeGuard.middleware, rateLimit({ policies: CHANGE_LIMITS })] as const,
  request: { body: jsonBody(ChangePasswordBodySchema) },
  responses: withRateLimit({ ...errorResponses(401, 403), 204: { description: "The password is changed" } }, CHANGE_LIMITS),
});

passwordRoutes.openapi(changeMyPassword, async (c) => {
  const { current_password, new_password } = c.req.valid("json");
  await changePassword(authDeps(c), principalOf(c), current_password, new_password);
  return c.body(null, 204);
});
