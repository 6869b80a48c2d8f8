/**
 * The configuration check: the bindings parsed with the schema of src/config.ts, plus the rules
 * that span several settings and those of staging and production. Fails closed: the config guard
 * answers 503 while `loadConfig` reports any problem.
 */
import type { Bindings } from "./bindings";
import { OWASP_ARGON2, configSchema, type Config } from "./config";
import { ARGON2_LIMITS } from "./lib/password";
import { rateLimitOverrideProblems } from "./lib/rate-limit/policies";
import { aiConfigProblems } from "./modules/ai/ai.config";

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
