import { z } from "zod";
import type { MetricsAggregator } from "./durable-objects/metrics-aggregator";
import type { AuditSealer } from "./durable-objects/audit-sealer";
import type { Quota } from "./durable-objects/quota";
import type { RateLimiter } from "./durable-objects/rate-limiter";
import { parseFaults, type FaultPlan } from "./lib/faults";
import type { Logger } from "./lib/logger";
import { ARGON2_LIMITS } from "./lib/password";
import { rateLimitOverrideProblems } from "./lib/rate-limit/policies";
import type { Principal } from "./lib/principal";
import { aiConfigProblems, aiConfigShape } from "./modules/ai/ai.config";
import type { DocumentJob } from "./modules/ai/ai.queue";
import type { AiBinding } from "./modules/ai/providers/workers-ai";

/**
 * The worker's bindings: resources from wrangler.toml plus every variable and secret as the
 * runtime hands them over (strings, possibly missing). `parseConfig` turns them into `Config`.
 */
export interface Bindings {
  DB: D1Database;
  FILES: R2Bucket;
  ASSETS: Fetcher;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  QUOTA: DurableObjectNamespace<Quota>;
  /** Operations (issue 14): the Durable Object every isolate's metric batches add up in. */
  METRICS_AGGREGATOR: DurableObjectNamespace<MetricsAggregator>;
  /** Operations: Workers Analytics Engine dataset receiving every metric event too, when configured. */
  METRICS_ANALYTICS?: AnalyticsEngineDataset;
  /** The single sealer of the audit hash chain (src/durable-objects/audit-sealer.ts). */
  AUDIT_SEALER: DurableObjectNamespace<AuditSealer>;
  /** Cloudflare's send_email binding; present only where it is configured (production). */
  MAIL?: SendEmail;
  /** AI gateway: Workers AI (production), Vectorize (production) and the document ingestion queue. */
  AI?: AiBinding;
  VECTORS?: Vectorize;
  AI_DOCUMENTS_QUEUE?: Queue<DocumentJob>;
  [variable: string]: unknown;
}

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

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Checks that only matter where real users are: staging and production never run on dev defaults. */
function productionProblems(config: Config): string[] {
  const problems: string[] = [];
  if (!config.PUBLIC_BASE_URL.startsWith("https://")) {
    problems.push("PUBLIC_BASE_URL must be an https URL");
  }
  if (config.CORS_ORIGINS.some((origin) => !origin.startsWith("https://"))) {
    problems.push("CORS_ORIGINS may list only https origins");
  }
  if (config.MAIL_TRANSPORT === "capture") {
    problems.push("MAIL_TRANSPORT=capture is development-only (it exposes a mailbox route)");
  }
  if (config.MAIL_TRANSPORT === "http" && (!config.MAIL_HTTP_ENDPOINT || !config.MAIL_HTTP_API_KEY)) {
    problems.push("MAIL_TRANSPORT=http needs MAIL_HTTP_ENDPOINT and the MAIL_HTTP_API_KEY secret");
  }
  // The API key travels in that request: never in clear.
  if (config.MAIL_HTTP_ENDPOINT && !config.MAIL_HTTP_ENDPOINT.startsWith("https://")) {
    problems.push("MAIL_HTTP_ENDPOINT must be an https URL");
  }
  if (
    config.ARGON2_MEMORY_KIB < OWASP_ARGON2.memoryKib ||
    config.ARGON2_ITERATIONS < OWASP_ARGON2.iterations ||
    config.ARGON2_PARALLELISM < OWASP_ARGON2.parallelism
  ) {
    problems.push("ARGON2_* parameters are below the OWASP minimum (m=19456, t=2, p=1)");
  }
  if (!config.FILE_LINK_SECRET || config.FILE_LINK_SECRET.length < 32) {
    problems.push("FILE_LINK_SECRET is missing or shorter than 32 characters");
  }
  if (config.LOG_LEVEL === "debug") {
    problems.push("LOG_LEVEL=debug is development-only");
  }
  for (const name of ["APP_URL", "EMAIL_LINK_VERIFY_URL", "EMAIL_LINK_RESET_URL"] as const) {
    // A token sent over http can be read on the way.
    if (config[name] !== undefined && !config[name].startsWith("https://")) problems.push(`${name} must be an https URL`);
  }
  if (!config.API_KEY_SECRET || config.API_KEY_SECRET.length < 32) {
    problems.push("API_KEY_SECRET is missing or shorter than 32 characters");
  }
  if (!config.RATE_LIMIT_SECRET || config.RATE_LIMIT_SECRET.length < 32) {
    problems.push("RATE_LIMIT_SECRET is missing or shorter than 32 characters");
  }
  return problems;
}

function keyProblems(config: Config): string[] {
  const kids = config.JWT_SIGNING_KEYS.map((key) => key.kid);
  const problems: string[] = [];
  if (new Set(kids).size !== kids.length) problems.push("JWT_SIGNING_KEYS has duplicate kids");
  for (const key of config.JWT_SIGNING_KEYS) {
    const okp = key.kty === "OKP" && key.crv === "Ed25519";
    const ec = key.kty === "EC" && key.crv === "P-256" && typeof key.y === "string";
    if (!okp && !ec) problems.push(`JWT_SIGNING_KEYS[${key.kid}] must be Ed25519 (OKP) or P-256 (EC)`);
    // A declared alg that does not fit the curve would only fail at the first sign-in.
    else if (key.alg !== undefined && key.alg !== (okp ? "EdDSA" : "ES256")) {
      problems.push(`JWT_SIGNING_KEYS[${key.kid}] alg ${key.alg} does not match its ${key.crv} curve`);
    }
  }
  return problems;
}

/**
 * Fills the WebAuthn defaults from PUBLIC_BASE_URL and checks the MFA settings agree; in staging
 * and production the encryption keys are required and explicit origins must be https (the default
 * origin is PUBLIC_BASE_URL, which has its own https check).
 */
function mfaProblems(config: Config, production: boolean): string[] {
  const problems: string[] = [];
  const explicitOrigins = config.WEBAUTHN_ORIGINS.length > 0;
  config.WEBAUTHN_RP_ID ??= new URL(config.PUBLIC_BASE_URL).hostname;
  if (!explicitOrigins) config.WEBAUTHN_ORIGINS = [new URL(config.PUBLIC_BASE_URL).origin];
  const rpId = config.WEBAUTHN_RP_ID;
  for (const origin of config.WEBAUTHN_ORIGINS) {
    let host: string;
    try {
      host = new URL(origin).hostname;
    } catch {
      problems.push(`WEBAUTHN_ORIGINS: ${origin} is not a URL`);
      continue;
    }
    // Browsers refuse a ceremony whose RP id is not the origin's host or a parent domain of it.
    if (host !== rpId && !host.endsWith(`.${rpId}`)) problems.push(`WEBAUTHN_ORIGINS: ${origin} is not on the RP id ${rpId}`);
  }
  const kids = config.MFA_ENCRYPTION_KEYS.map((key) => key.kid);
  if (new Set(kids).size !== kids.length) problems.push("MFA_ENCRYPTION_KEYS has duplicate kids");
  if (production) {
    if (config.MFA_ENCRYPTION_KEYS.length === 0) problems.push("MFA_ENCRYPTION_KEYS is missing (TOTP secrets are encrypted with it)");
    if (explicitOrigins && config.WEBAUTHN_ORIGINS.some((origin) => !origin.startsWith("https://"))) problems.push("WEBAUTHN_ORIGINS may list only https origins");
  }
  return problems;
}

/**
 * Validates the raw bindings into a typed `Config`. Never throws: the caller decides how to fail.
 * The result names every problem at once so an operator fixes them in one deploy.
 */
export function parseConfig(bindings: Record<string, unknown>): ConfigResult {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = bindings[key];
    // Empty strings mean "not set", so a blanked-out variable falls back to its default.
    if (typeof value === "string" && value.trim() !== "") raw[key] = value.trim();
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`),
    };
  }
  const config = parsed.data;
  config.JWT_ISSUER ??= config.PUBLIC_BASE_URL;
  const production = config.ENVIRONMENT === "staging" || config.ENVIRONMENT === "production";
  const problems = [
    ...keyProblems(config),
    ...rateLimitOverrideProblems(config.RATE_LIMIT_OVERRIDES),
    ...aiConfigProblems(config, bindings),
    ...mfaProblems(config, production),
  ];
  // Chaos mode is for local runs only: a forgotten FAULTS must not break staging, production or CI.
  if (config.FAULTS.length > 0 && config.ENVIRONMENT !== "development") {
    problems.push("FAULTS (chaos mode) is development-only");
  }
  if (config.ARGON2_MEMORY_KIB * config.ARGON2_ITERATIONS > ARGON2_LIMITS.memoryTimesIterations) {
    problems.push(`ARGON2_MEMORY_KIB × ARGON2_ITERATIONS exceeds ${ARGON2_LIMITS.memoryTimesIterations} (more CPU than one request can spend)`);
  }
  // development and test are for a machine, not the internet: a deployed worker set (or left) to
  // one of them refuses to serve instead of handing out captured reset links.
  if ((config.ENVIRONMENT === "development" || config.ENVIRONMENT === "test") && !isLoopbackUrl(config.PUBLIC_BASE_URL)) {
    problems.push(`ENVIRONMENT=${config.ENVIRONMENT} needs a loopback PUBLIC_BASE_URL (localhost, 127.0.0.1 or [::1]); deployed workers are staging or production`);
  }
  if (config.API_KEY_DEFAULT_TTL > config.API_KEY_MAX_TTL) problems.push("API_KEY_DEFAULT_TTL must not exceed API_KEY_MAX_TTL");
  if (production) {
    problems.push(...productionProblems(config));
    if (config.MAIL_TRANSPORT === "send_email" && typeof (bindings.MAIL as SendEmail | undefined)?.send !== "function") {
      problems.push("MAIL_TRANSPORT=send_email needs the MAIL send_email binding ([[send_email]] in wrangler.toml)");
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** True for http(s) URLs on localhost, 127.0.0.0/8 or [::1]. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const cache = new WeakMap<object, ConfigResult>();

/** `parseConfig` once per bindings object (once per isolate in production). */
export function loadConfig(bindings: Bindings): ConfigResult {
  let result = cache.get(bindings);
  if (!result) {
    result = parseConfig(bindings);
    cache.set(bindings, result);
  }
  return result;
}

export interface Variables {
  /** Our id of this request (never the client's). */
  requestId: string;
  /** The caller's own X-Request-Id when it is plain enough to log; for correlation only. */
  clientRequestId?: string;
  config: Config;
  logger: Logger;
  /** Set by the auth middleware once a bearer token is verified. */
  userId?: string;
  /** The verified caller: user, session, current roles and permissions. */
  principal?: Principal;
  /** The D1 session (read replication) the principal was read through; its bookmark is answered. */
  readSession?: D1DatabaseSession;
  /** Machine code of the error answered, for the request log line. */
  errorCode?: string;
  /** Extra fields for the request's single log line (error details and stack, failed checks). */
  logFields?: Record<string, unknown>;
  /** When the timeout middleware answers 504 (epoch ms): outbound calls (AI providers) end before it. */
  deadline?: number;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
