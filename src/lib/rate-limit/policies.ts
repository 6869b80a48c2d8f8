import { z } from "zod";
import type { Config } from "../../config";

/**
 * The rate-limit policy catalog: every limit the API enforces, declared once. Operators change
 * numbers without a deploy through RATE_LIMIT_OVERRIDES (see docs/rate-limits.md).
 */

/**
 * What a policy's bucket is keyed by. `network` is the client's IPv6 /48 (IPv4 clients have none,
 * so the policy does not apply to them); `custom` keys are supplied by the route.
 */
export const keyKinds = ["ip", "network", "user", "email", "session", "custom"] as const;
export type KeyKind = (typeof keyKinds)[number];

/**
 * `closed`: when the limiter cannot answer, refuse with 503 (authentication endpoints: an outage
 * must not switch off brute-force protection). `open`: let the request through and log a warning
 * (general API traffic: an outage of the limiter must not take the API down).
 */
export type FailureMode = "open" | "closed";

export interface PolicyDefinition {
  /** Units (requests) allowed in any sliding window of `window` seconds. */
  limit: number;
  /** Window length in seconds. */
  window: number;
  key: KeyKind;
  failure: FailureMode;
  /**
   * Count only responses with these statuses (a failure counter). The unit is reserved before
   * the handler runs, so parallel attempts cannot overshoot, and refunded afterwards when the
   * response status is not listed.
   */
  countOnly?: readonly number[];
  /** With `countOnly`: a 2xx response clears the bucket (a successful login forgets failures). */
  resetOnSuccess?: boolean;
  /**
   * General throttling, not a security counter: the isolate leases units from the limiter in
   * batches instead of calling it per request (src/lib/rate-limit/lease.ts). Never over the limit
   * by more than one lease per isolate; the RateLimit field omits its remaining count.
   */
  approximate?: boolean;
  description: string;
}

export const rateLimitPolicies = {
  api_anonymous: {
    limit: 300, window: 60, key: "ip", failure: "open", approximate: true,
    description: "Requests under /api without an Authorization header, per client IP",
  },
  api_user: {
    limit: 600, window: 60, key: "user", failure: "open", approximate: true,
    description: "Authenticated requests under /api, per user id",
  },
  api_key: {
    limit: 600, window: 60, key: "custom", failure: "open",
    description: "Requests authenticated with an API key, per key",
  },
  login_ip: {
    limit: 100, window: 300, key: "ip", failure: "closed",
    description: "Login attempts per client IP (password spraying across accounts)",
  },
  login_network: {
    limit: 500, window: 300, key: "network", failure: "closed",
    description: "Login attempts per IPv6 /48 (one site: 65,536 /64s, each with its own login_ip budget)",
  },
  login_account: {
    limit: 5, window: 900, key: "email", failure: "closed", countOnly: [401], resetOnSuccess: true,
    description: "Failed logins per normalized email from clients without a device token for it; while exhausted even the right password gets 429 (from such clients)",
  },
  login_device: {
    limit: 5, window: 900, key: "custom", failure: "closed", countOnly: [401], resetOnSuccess: true,
    description: "Failed logins per device token (a client that signed in to the account before); independent of login_account",
  },
  register_ip: {
    limit: 60, window: 3600, key: "ip", failure: "closed",
    description: "Registrations per client IP",
  },
  register_email: {
    limit: 5, window: 3600, key: "email", failure: "closed",
    description: "Registrations per normalized email, whether or not it is taken (each one mails the address)",
  },
  resend_verification_email: {
    limit: 5, window: 3600, key: "email", failure: "closed",
    description: "Verification email resends per normalized email",
  },
  resend_verification_ip: {
    limit: 20, window: 3600, key: "ip", failure: "closed",
    description: "Verification email resends per client IP",
  },
  password_forgot_email: {
    limit: 5, window: 3600, key: "email", failure: "closed",
    description: "Password reset requests per normalized email",
  },
  password_forgot_ip: {
    limit: 20, window: 3600, key: "ip", failure: "closed",
    description: "Password reset requests per client IP",
  },
  password_change_user: {
    limit: 5, window: 900, key: "user", failure: "closed", countOnly: [403], resetOnSuccess: true,
    description: "Wrong current passwords on password change, per user (a stolen access token must not become a password oracle)",
  },
  password_change_hashes_user: {
    limit: 10, window: 3600, key: "user", failure: "closed", countOnly: [204, 403],
    description: "Password changes that reached argon2 (right or wrong current password), per user: bounds the CPU one account can burn",
  },
  password_reset_ip: {
    limit: 20, window: 900, key: "ip", failure: "closed",
    description: "Password reset submissions (token + new password) per client IP",
  },
  verify_email_ip: {
    limit: 30, window: 900, key: "ip", failure: "closed",
    description: "Email verification submissions per client IP",
  },
  refresh_session: {
    limit: 30, window: 60, key: "session", failure: "closed",
    description: "Token refreshes per session",
  },
  refresh_ip: {
    limit: 120, window: 60, key: "ip", failure: "closed",
    description: "Token refreshes per client IP",
  },
  ai_user: {
    limit: 60, window: 60, key: "user", failure: "open",
    description: "AI calls per user; each call costs 1 + 4 × the user's AI risk score (repeated blocked injections tighten it)",
  },
  // Second factors (docs/mfa.md): counted apart from the password path, so neither can lock the other.
  mfa_verify_ip: {
    limit: 100, window: 300, key: "ip", failure: "closed",
    description: "Second-factor and passkey sign-in attempts per client IP",
  },
  mfa_token: {
    limit: 5, window: 900, key: "custom", failure: "closed", countOnly: [401],
    description: "Wrong second factors per mfa_token (one login attempt); then sign in with the password again",
  },
  mfa_account: {
    limit: 10, window: 900, key: "user", failure: "closed", countOnly: [401], resetOnSuccess: true,
    description: "Wrong second factors per account (login and step-up); never counts against the password lock-out",
  },
} as const satisfies Record<string, PolicyDefinition>;

export type PolicyName = keyof typeof rateLimitPolicies;

export const policyNames = Object.keys(rateLimitPolicies) as PolicyName[];

/** A policy with its configuration overrides applied. */
export interface ResolvedPolicy extends PolicyDefinition {
  name: PolicyName;
}

const overrideSchema = z
  .object({
    limit: z.number().int().min(1).max(1_000_000_000).optional(),
    window: z.number().int().min(1).max(31_536_000).optional(),
    failure: z.enum(["open", "closed"]).optional(),
  })
  .strict();

/** RATE_LIMIT_OVERRIDES: `{"login_account":{"limit":10,"window":600}}`; unknown policies are errors. */
export const rateLimitOverridesSchema = z
  .record(z.string(), overrideSchema)
  .superRefine((value, ctx) => {
    for (const name of Object.keys(value)) {
      if (!(name in rateLimitPolicies)) {
        ctx.addIssue({ code: "custom", path: [name], message: `unknown rate-limit policy (known: ${policyNames.join(", ")})` });
      }
    }
  });

export type RateLimitOverrides = z.infer<typeof rateLimitOverridesSchema>;

/**
 * Problems with RATE_LIMIT_OVERRIDES, one line each; empty when valid. The config guard refuses
 * to serve with any, so a typo cannot silently leave a default in place.
 */
export function rateLimitOverrideProblems(overrides: unknown): string[] {
  const parsed = rateLimitOverridesSchema.safeParse(overrides);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `RATE_LIMIT_OVERRIDES.${issue.path.join(".")}: ${issue.message}`);
}

const cache = new WeakMap<object, Record<PolicyName, ResolvedPolicy>>();

/**
 * The catalog with RATE_LIMIT_OVERRIDES applied, computed once per configuration. Throws when the
 * overrides are invalid (the config guard normally refuses such a configuration first).
 *
 * @example
 * resolvePolicies(c.var.config).login_account.limit // 5, or the override
 */
export function resolvePolicies(config: Pick<Config, "RATE_LIMIT_OVERRIDES">): Record<PolicyName, ResolvedPolicy> {
  const cached = cache.get(config);
  if (cached) return cached;
  const overrides = rateLimitOverridesSchema.parse(config.RATE_LIMIT_OVERRIDES);
  const resolved = {} as Record<PolicyName, ResolvedPolicy>;
  for (const name of policyNames) {
    const base: PolicyDefinition = rateLimitPolicies[name];
    resolved[name] = { ...base, ...overrides[name], name };
  }
  cache.set(config, resolved);
  return resolved;
}
