import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../env";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { principalOf, requirePermission } from "../../middleware/auth";
import { authDeps } from "./auth.context";
import { AcceptedSchema, ChangePasswordBodySchema, EmailBodySchema, ResetPasswordBodySchema } from "./auth.schemas";
import { changePassword, forgotPassword, resetPassword } from "./password.service";

export const passwordRoutes = new OpenAPIHono<AppEnv>();

const requestPasswordReset = createRoute({
  method: "post",
  path: "/auth/password/forgot",
  operationId: "requestPasswordReset",
  tags: ["Auth"],
  summary: "Email a password-reset link (the same 202, with the same timing, for every address)",
  request: { body: jsonBody(EmailBodySchema) },
  responses: { ...errorResponses(429), 202: jsonContent(AcceptedSchema, "Accepted") },
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
  request: { body: jsonBody(ResetPasswordBodySchema) },
  responses: { ...errorResponses(429), 204: { description: "The password is changed" } },
});

passwordRoutes.openapi(resetPasswordWithToken, async (c) => {
  const { token, new_password } = c.req.valid("json");
  await resetPassword(authDeps(c), token, new_password);
  return c.body(null, 204);
});

const changeMyPassword = createRoute({
  method: "post",
  path: "/auth/password/change",
  operationId: "changePassword",
  tags: ["Auth"],
  summary: "Change the caller's password; every other session ends",
  ...requirePermission("account:security"),
  request: { body: jsonBody(ChangePasswordBodySchema) },
  responses: { ...errorResponses(401, 403, 429), 204: { description: "The password is changed" } },
});

passwordRoutes.openapi(changeMyPassword, async (c) => {
  const { current_password, new_password } = c.req.valid("json");
  await changePassword(authDeps(c), principalOf(c), current_password, new_password);
  return c.body(null, 204);
});
