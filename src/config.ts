/**
 * The configuration schema: every variable and secret the service reads, with its default and
 * bounds, and the `Config` type derived from it. Validation that needs more than one field (and
 * the staging/production checks) lives in src/env.ts, which parses the bindings with this schema.
 *
 * Imports only leaf modules (nothing here imports back), so any module may import `Config`.
 */
import { z } from "zod";
import { parseFaults, type FaultPlan } from "./lib/faults";
import { ARGON2_LIMITS } from "./lib/password";
import { aiConfigShape } from "./modules/ai/ai.config";

/** OWASP's minimum argon2id parameters (m=19 MiB, t=2, p=1); staging and production refuse less. */
export const OWASP_ARGON2 = { memoryKib: 19456, iterations: 2, parallelism: 1 } as const;

/**
 * The default: 32 MiB, t=2, p=1, about 1.7x OWASP's minimum in memory and work, the strongest
 * setting that keeps one login near 40 ms of CPU with the WebAssembly hasher (docs/passwords.md).
 */
export const DEFAULT_ARGON2 = { memoryKib: 32768, iterations: 2, parallelism: 1 } as const;

const environments = ["development", "test", "staging", "production"] as const;
export type Environment = (typeof environments)[number];

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(fallback ? "true" : "false")
    .transform((value) => value === "true" || value === "1");

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const commaList = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const jsonText = <T extends z.ZodType>(schema: T, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** An absolute http(s) URL with exactly one `{token}` where the emailed token goes. */
const linkTemplate = z
  .string()
  .max(2048)
  .refine((template) => template.split("{token}").length === 2, "must contain {token} exactly once")
  .refine((template) => URL.canParse(template.replace("{token}", "t")) && /^https?:\/\//.test(template), "must be an absolute http(s) URL");

const privateJwk = z
  .object({
    kty: z.enum(["OKP", "EC"]),
    kid: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, "kid must be URL-safe"),
    crv: z.enum(["Ed25519", "P-256"]),
    x: z.string(),
    y: z.string().optional(),
    d: z.string().min(1, "a private key (d) is required"),
    alg: z.enum(["EdDSA", "ES256"]).optional(),
  })
  .loose();
export type PrivateJwk = z.infer<typeof privateJwk>;

const mfaEncryptionKey = z
  .object({
    kid: z.string().min(1).max(32).regex(/^[A-Za-z0-9._-]+$/, "kid must be URL-safe"),
    key: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "key must be 32 random bytes, base64url (43 characters)"),
  })
  .strict();
export type MfaEncryptionKey = z.infer<typeof mfaEncryptionKey>;

/**
 * Every variable and secret the service reads, with its default. The README's configuration
 * table mirrors this schema.
 */
export const configSchema = z.object({
  // No default: a deploy that forgets it must not run as development (dev mailbox, capture mail).
  ENVIRONMENT: z.enum(environments, { error: "must be set explicitly: development, test, staging or production" }),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, "")),
  CORS_ORIGINS: commaList,
  DOCS_PUBLIC: bool(false),
  MAX_BODY_BYTES: int(1_048_576, 1_024, 100 * 1_048_576),
  REQUEST_TIMEOUT_MS: int(10_000, 100, 300_000),
  /** Uploads stream their body at the client's speed: 10 MiB at 100 KB/s needs ~100 s. */
  UPLOAD_TIMEOUT_MS: int(120_000, 1_000, 600_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),

  JWT_SIGNING_KEYS: jsonText(z.array(privateJwk).min(1, "needs at least one key"), "[]"),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().min(1).default("edge-auth-api"),
  ACCESS_TOKEN_TTL: int(900, 60, 86_400),
  REFRESH_TOKEN_TTL: int(604_800, 300, 31_536_000),
  SESSION_MAX_AGE: int(2_592_000, 300, 31_536_000),
  REFRESH_REUSE_GRACE: int(10, 0, 300),
  EMAIL_VERIFICATION_TTL: int(86_400, 60, 604_800),
  PASSWORD_RESET_TTL: int(1_800, 60, 86_400),
  REQUIRE_EMAIL_VERIFICATION: bool(true),
  REQUIRE_APPROVAL: bool(false),
  PASSWORD_MIN_LENGTH: int(8, 8, 64),
  // Bounded by what one isolate can compute (ARGON2_LIMITS in src/lib/password.ts).
  ARGON2_MEMORY_KIB: int(DEFAULT_ARGON2.memoryKib, 8, ARGON2_LIMITS.memoryKib),
  ARGON2_ITERATIONS: int(DEFAULT_ARGON2.iterations, 1, ARGON2_LIMITS.iterations),
  ARGON2_PARALLELISM: int(DEFAULT_ARGON2.parallelism, 1, ARGON2_LIMITS.parallelism),

  MAIL_TRANSPORT: z.enum(["capture", "send_email", "http"]).default("capture"),
  MAIL_FROM: z.string().default("Edge Auth <no-reply@example.com>"),
  MAIL_HTTP_ENDPOINT: z.url().optional(),
  MAIL_HTTP_API_KEY: z.string().optional(),

  BOOTSTRAP_ADMIN_EMAIL: z.string().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().optional(),

  FILE_LINK_SECRET: z.string().optional(),
  MAX_UPLOAD_BYTES: int(10 * 1_048_576, 1, 100 * 1_048_576),
  FILES_QUOTA_BYTES: int(100 * 1_048_576, 1, 1_099_511_627_776),
  FILE_LINK_TTL: int(300, 10, 3_600),
  UPLOAD_ALLOWED_TYPES: commaList,

  RATE_LIMIT_OVERRIDES: jsonText(z.record(z.string(), z.unknown()), "{}"),

  // Email links (docs/integration.md, "Email links and hosted pages"): where emailed links lead.
  // Unset, the worker hosts the pages itself; APP_URL sends every link to the frontend's origin.
  APP_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => /^https?:\/\/[^/?#]+\/?$/.test(url), "must be an origin (scheme, host and port only)")
    .transform((url) => url.replace(/\/+$/, ""))
    .optional(),
  EMAIL_LINK_VERIFY_URL: linkTemplate.optional(),
  EMAIL_LINK_RESET_URL: linkTemplate.optional(),

  // AI gateway (issue 11): models, providers, screening, vector store; see docs/ai.md.
  ...aiConfigShape,
  // Operations (issue 14): metrics accumulation and chaos mode; see docs/metrics.md and docs/RUNBOOK.md.
  METRICS_ENABLED: bool(true),
  /** An isolate hands its metric buffer to the aggregator after this many events... */
  METRICS_FLUSH_EVENTS: int(500, 1, 100_000),
  /** ...or when its oldest unsent event is this old (ms), whichever comes first. */
  METRICS_FLUSH_MS: int(10_000, 0, 300_000),
  FAULTS: z
    .string()
    .default("")
    .transform((text, ctx): FaultPlan => {
      const parsed = parseFaults(text);
      if (parsed.ok) return parsed.plan;
      ctx.addIssue({ code: "custom", message: parsed.problem });
      return z.NEVER;
    }),
  FAULTS_DELAY_MS: int(2_500, 1, 60_000),
  // Integration surface (issue 12): token claims, API keys and service accounts.
  /** Claims embedded in access tokens at issue time (RFC 9068 style): `roles`, `permissions`. */
  ACCESS_TOKEN_CLAIMS: commaList.pipe(z.array(z.enum(["roles", "permissions"]))),
  /** HMAC key of stored API-key hashes; required (>= 32 characters) in staging and production. */
  API_KEY_SECRET: z.string().optional(),
  /** Longest API-key lifetime an owner may ask for, seconds (1 year). */
  API_KEY_MAX_TTL: int(31_536_000, 3_600, 157_680_000),
  /** Lifetime of a key created without `expires_in`, seconds (90 days; at most API_KEY_MAX_TTL). */
  API_KEY_DEFAULT_TTL: int(7_776_000, 3_600, 157_680_000),
  /** Longest overlap during which a rotated-out key keeps working, seconds (1 day). */
  API_KEY_MAX_ROTATION_OVERLAP: int(86_400, 0, 2_592_000),

  // Security hardening (issue 9): the key of email-shard selection and of login device tokens, so
  // nobody can aim at one shard object or mint a device token. Required in staging/production;
  // development and test without it use a random key per isolate.
  RATE_LIMIT_SECRET: z.string().optional(),

  // Multi-factor authentication and passkeys (src/modules/mfa, docs/mfa.md).
  /** AES-256-GCM keys that encrypt TOTP secrets; the first encrypts, every key decrypts (rotation). */
  MFA_ENCRYPTION_KEYS: jsonText(z.array(mfaEncryptionKey), "[]"),
  /** The issuer an authenticator app shows next to the account. */
  MFA_ISSUER: z.string().min(1).max(64).default("Edge Auth"),
  /** Lifetime of the mfa_token a login answers with, and of WebAuthn challenges, in seconds. */
  MFA_TOKEN_TTL: int(300, 30, 900),
  /** How long a second-factor proof (sign-in or step-up) satisfies requireAssurance("aal2"), seconds. */
  MFA_STEP_UP_WINDOW: int(600, 60, 86_400),
  /** Holders of any of these permissions (`resource:*` allowed) must enroll a second factor. */
  MFA_REQUIRED_PERMISSIONS: commaList.pipe(z.array(z.string().regex(/^[a-z_]+:(\*|[a-z_]+)$/, "must be resource:action or resource:*"))),
  /** The WebAuthn relying-party id; defaults to the host of PUBLIC_BASE_URL. */
  WEBAUTHN_RP_ID: z.string().min(1).max(253).optional(),
  WEBAUTHN_RP_NAME: z.string().min(1).max(64).default("Edge Auth"),
  /** Origins allowed in WebAuthn client data; defaults to PUBLIC_BASE_URL. */
  WEBAUTHN_ORIGINS: commaList,
});

export type Config = z.infer<typeof configSchema>;
