import { z } from "@hono/zod-openapi";
import { normalizeEmail } from "../../lib/email";

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An email as typed; it is normalized (trim, NFKC, lower-case) by the service, once. */
export const EmailSchema = z
  .string()
  .max(320)
  .refine((value) => {
    const normalized = normalizeEmail(value);
    return normalized.length <= 254 && EMAIL_SHAPE.test(normalized);
  }, "must be a valid email address")
  .openapi({ example: "ada@example.com", format: "email" });

/**
 * A password exactly as typed. The route only bounds its size (1024 bytes is also the hashing
 * limit); the policy (length, common passwords, not the email) is checked by the service because
 * its minimum length is configuration.
 */
export const PasswordSchema = z
  .string()
  .min(1)
  // One error for an oversized password, not two: past 1024 UTF-16 units it is past 1024 bytes too.
  .max(1024, { message: "must be at most 1024 bytes", abort: true })
  .refine((value) => new TextEncoder().encode(value).byteLength <= 1024, "must be at most 1024 bytes")
  .openapi({ example: "correct horse battery staple", format: "password" });

const NameSchema = z.string().trim().min(1).max(100);
const OptionalNameSchema = z.string().trim().max(100).nullable().optional();

/**
 * Opaque tokens from emails and logins. Only bounded here: a string of the wrong shape (an access
 * token sent as a refresh token, a mangled link) is an invalid token, answered like any unknown
 * one by the service (401 for refresh, 400 for emailed tokens), not a 422 that tells the shapes apart.
 */
const OpaqueTokenSchema = z.string().min(1).max(4096);

export const RegisterBodySchema = z
  .object({
    email: EmailSchema,
    password: PasswordSchema,
    first_name: NameSchema.openapi({ example: "Ada" }),
    last_name: NameSchema.openapi({ example: "Lovelace" }),
    middle_name: OptionalNameSchema,
    role_title: OptionalNameSchema.openapi({ example: "Engineer" }),
  })
  .strict()
  .openapi("RegisterRequest");

export const AcceptedSchema = z
  .object({ status: z.literal("accepted"), message: z.string().max(200) })
  .openapi("Accepted");

export const TokenBodySchema = z.object({ token: OpaqueTokenSchema }).strict().openapi("TokenRequest");

export const EmailBodySchema = z.object({ email: EmailSchema }).strict().openapi("EmailRequest");

/** A device token as login returns it (src/modules/auth/device-token.ts); anything else is ignored, not refused. */
const DeviceTokenSchema = z.string().max(256).openapi({
  description: "The `device_token` of an earlier successful login from this client: failures from it are counted for this device alone, so others cannot lock it out",
});

export const LoginBodySchema = z.object({ email: EmailSchema, password: PasswordSchema, device_token: DeviceTokenSchema.optional() }).strict().openapi("LoginRequest");

export const RefreshBodySchema = z.object({ refresh_token: OpaqueTokenSchema }).strict().openapi("RefreshRequest");

export const TokenPairSchema = z
  .object({
    access_token: z.string().max(4096),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().min(0).max(86_400).openapi({ description: "Seconds until the access token expires" }),
    refresh_token: z.string().max(256),
    refresh_expires_in: z.number().int().min(0).max(31_536_000).openapi({ description: "Seconds until the refresh token expires unless used" }),
  })
  .openapi("TokenPair");

export const LoginResponseSchema = TokenPairSchema.extend({
  device_token: z.string().max(256).openapi({ description: "Keep it and send it with the next login from this client (valid 180 days)" }),
}).openapi("LoginResponse");

export const ResetPasswordBodySchema = z
  .object({ token: OpaqueTokenSchema, new_password: PasswordSchema })
  .strict()
  .openapi("ResetPasswordRequest");

export const ChangePasswordBodySchema = z
  .object({ current_password: PasswordSchema, new_password: PasswordSchema })
  .strict()
  .openapi("ChangePasswordRequest");

export const SessionSchema = z
  .object({
    id: z.string().uuid(),
    created_at: z.string().datetime().max(30),
    last_used_at: z.string().datetime().max(30),
    expires_at: z.string().datetime().max(30),
    user_agent: z.string().max(256).nullable(),
    country: z.string().max(8).nullable(),
    current: z.boolean(),
  })
  .openapi("Session");

export const SessionListSchema = z.object({ items: z.array(SessionSchema).max(1000) }).openapi("SessionList");

export const SessionIdParamSchema = z.object({
  id: z.string().uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});

export const JwksSchema = z
  .object({
    keys: z.array(
      z
        .object({
          kty: z.enum(["OKP", "EC"]),
          crv: z.enum(["Ed25519", "P-256"]),
          x: z.string().max(64),
          y: z.string().max(64).optional(),
          kid: z.string().max(64),
          alg: z.enum(["EdDSA", "ES256"]),
          use: z.literal("sig"),
        })
        .openapi("Jwk"),
    ).max(16),
  })
  .openapi("Jwks");
