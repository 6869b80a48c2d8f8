import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../env";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { authDeps } from "./auth.context";
import { AcceptedSchema, EmailBodySchema, LoginBodySchema, RegisterBodySchema, TokenBodySchema, TokenPairSchema } from "./auth.schemas";
import { login, register, resendVerification, verifyEmail } from "./auth.service";

export const authRoutes = new OpenAPIHono<AppEnv>();

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
  request: { body: jsonBody(RegisterBodySchema) },
  responses: { ...errorResponses(429), 202: jsonContent(AcceptedSchema, "Accepted; check the mailbox") },
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
  request: { body: jsonBody(TokenBodySchema) },
  responses: { ...errorResponses(429), 204: { description: "Verified" } },
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
  request: { body: jsonBody(EmailBodySchema) },
  responses: { ...errorResponses(429), 202: jsonContent(AcceptedSchema, "Accepted") },
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
  summary: "Exchange email and password for an access token and a refresh token",
  description:
    "Unknown emails and wrong passwords get the same 401. Disabled, unverified and unapproved " +
    "accounts get a 403 only after the password was right. Repeated failures for one account lock it (429).",
  request: { body: jsonBody(LoginBodySchema) },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(TokenPairSchema, "Signed in") },
});

authRoutes.openapi(loginUser, async (c) => {
  const { email, password } = c.req.valid("json");
  const tokens = await login(authDeps(c), email, password);
  c.header("Cache-Control", "no-store");
  return c.json(tokens, 200);
});
