import { z } from "@hono/zod-openapi";
import { LoginResponseSchema } from "../auth/auth.schemas";

const MethodSchema = z.enum(["totp", "webauthn", "recovery_code"]).openapi({ description: "A second-factor method" });

/** A 6-digit TOTP code, or a recovery code as shown (`xxxxx-xxxxx`; case, spaces and dashes ignored). */
const CodeSchema = z.string().min(1).max(32).openapi({ example: "123456" });

/**
 * A WebAuthn response as `navigator.credentials.create()/get()` returns it, JSON-encoded (the
 * shape of @simplewebauthn/browser's output). Its fields are checked by the ceremony itself.
 */
export const WebAuthnResponseSchema = z
  .object({
    id: z.string().min(1).max(1024),
    rawId: z.string().min(1).max(1024),
    type: z.literal("public-key"),
    response: z
      .object({
        clientDataJSON: z.string().min(1).max(4096),
        attestationObject: z.string().max(16_384).optional(),
        authenticatorData: z.string().max(4096).optional(),
        signature: z.string().max(1024).optional(),
        userHandle: z.string().max(256).nullable().optional(),
        transports: z.array(z.string().max(32)).max(10).optional(),
        publicKeyAlgorithm: z.number().int().min(-65_536).max(65_535).optional(),
        publicKey: z.string().max(4096).optional(),
      })
      .loose(),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).nullable().optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  })
  .openapi("WebAuthnResponse");

/** Options for navigator.credentials.create()/get(), JSON-encoded (base64url binary fields). */
const WebAuthnOptionsSchema = z.record(z.string(), z.unknown()).openapi("WebAuthnOptions", {
  description: "PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3)",
});

export const MfaRequiredSchema = z
  .object({
    status: z.literal("mfa_required"),
    mfa_token: z.string().max(128).openapi({ description: "Single-use; send it to POST /auth/mfa/verify" }),
    methods: z.array(MethodSchema).max(3),
    expires_in: z.number().int().min(0).max(900).openapi({ description: "Seconds the mfa_token stays valid" }),
  })
  .openapi("MfaRequired");

export const LoginResultSchema = z.union([LoginResponseSchema, MfaRequiredSchema]).openapi("LoginResult");

export const TotpEnrollmentSchema = z
  .object({
    secret: z.string().max(64).openapi({ description: "Base32 secret for manual entry (160 bits)", example: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" }),
    otpauth_uri: z.string().max(1024).openapi({ description: "otpauth://totp/... for a QR code" }),
    algorithm: z.literal("SHA1"),
    digits: z.literal(6),
    period: z.literal(30),
  })
  .openapi("TotpEnrollment");

export const CodeBodySchema = z.object({ code: CodeSchema }).strict().openapi("MfaCodeRequest");

export const RecoveryCodesSchema = z
  .object({
    recovery_codes: z.array(z.string().max(16)).max(10).openapi({ description: "Shown once; each works once" }),
  })
  .openapi("RecoveryCodes");

export const MfaStatusSchema = z
  .object({
    totp: z.object({ enabled: z.boolean(), pending: z.boolean() }),
    passkeys: z.number().int().min(0).max(1000),
    recovery_codes_remaining: z.number().int().min(0).max(10),
    methods: z.array(MethodSchema).max(3),
  })
  .openapi("MfaStatus");

/** The proof of a second factor: a code (totp, recovery_code) or a WebAuthn assertion. */
const proofShape = {
  method: MethodSchema,
  code: CodeSchema.optional(),
  credential: WebAuthnResponseSchema.optional(),
};

function requireProof<T extends { method: string; code?: string | undefined; credential?: unknown }>(value: T, ctx: z.RefinementCtx): void {
  if (value.method === "webauthn" ? value.credential === undefined : value.code === undefined) {
    ctx.addIssue({ code: "custom", path: [value.method === "webauthn" ? "credential" : "code"], message: `is required for method ${value.method}` });
  }
}

export const MfaVerifyBodySchema = z
  .object({ mfa_token: z.string().min(1).max(128), ...proofShape })
  .strict()
  .superRefine(requireProof)
  .openapi("MfaVerifyRequest");

export const StepUpBodySchema = z.object(proofShape).strict().superRefine(requireProof).openapi("StepUpRequest");

export const MfaTokenBodySchema = z.object({ mfa_token: z.string().min(1).max(128) }).strict().openapi("MfaTokenRequest");

export const SignedInSchema = LoginResponseSchema.extend({
  recovery_code_used: z.boolean().optional().openapi({ description: "A recovery code signed in: set up a new authenticator" }),
  recovery_codes_remaining: z.number().int().min(0).max(10).optional(),
}).openapi("SignedIn");

export const StepUpResultSchema = z
  .object({
    access_token: z.string().max(4096),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().min(0).max(86_400),
    acr: z.literal("aal2"),
    step_up_expires_in: z.number().int().min(0).max(86_400).openapi({ description: "Seconds the step-up satisfies aal2 routes" }),
  })
  .openapi("StepUpResult");

export const WebAuthnOptionsResultSchema = z.object({ options: WebAuthnOptionsSchema }).openapi("WebAuthnOptionsResult");

export const PasskeySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string().max(100),
    device_type: z.enum(["singleDevice", "multiDevice"]),
    backed_up: z.boolean(),
    transports: z.array(z.string().max(32)).max(10),
    created_at: z.string().datetime().max(30),
    last_used_at: z.string().datetime().max(30).nullable(),
  })
  .openapi("Passkey");

export const PasskeyListSchema = z.object({ items: z.array(PasskeySchema).max(100) }).openapi("PasskeyList");

export const PasskeyRegistrationBodySchema = z
  .object({ name: z.string().trim().min(1).max(100).optional(), credential: WebAuthnResponseSchema })
  .strict()
  .openapi("PasskeyRegistrationRequest");

export const PasskeyRegisteredSchema = z
  .object({ passkey: PasskeySchema, recovery_codes: z.array(z.string().max(16)).max(10).optional().openapi({ description: "Only for the account's first factor; shown once" }) })
  .openapi("PasskeyRegistered");

export const PasskeyRenameBodySchema = z.object({ name: z.string().trim().min(1).max(100) }).strict().openapi("PasskeyRenameRequest");

export const PasskeyLoginBodySchema = z.object({ credential: WebAuthnResponseSchema }).strict().openapi("PasskeyLoginRequest");

export const IdParamSchema = z.object({
  id: z.string().uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});
