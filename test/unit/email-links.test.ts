import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig, type ConfigResult } from "../../src/env";
import { emailLink, isHostedLink } from "../../src/lib/mail";

const KEYS = String(env.JWT_SIGNING_KEYS);
/** Development needs a loopback PUBLIC_BASE_URL (src/env.ts): the hosted pages live there. */
const HOSTED = "http://localhost:8787";
const base = { ENVIRONMENT: "development", PUBLIC_BASE_URL: HOSTED, JWT_SIGNING_KEYS: KEYS };
const production = {
  ...base,
  ENVIRONMENT: "production",
  PUBLIC_BASE_URL: "https://auth.example.com",
  RATE_LIMIT_SECRET: "r".repeat(32),
  MAIL_TRANSPORT: "send_email",
  MAIL: { send: async () => {} },
  FILE_LINK_SECRET: "f".repeat(32),
  API_KEY_SECRET: "k".repeat(32),
  MFA_ENCRYPTION_KEYS: JSON.stringify([{ kid: "mfa-1", key: "k".repeat(43) }]),
};

function problemsOf(result: ConfigResult): string[] {
  return result.ok ? [] : result.problems;
}

function configOf(vars: Record<string, unknown>) {
  const result = parseConfig({ ...base, ...vars });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

describe("email link settings at startup", () => {
  it("accepts an origin and templates with one {token}", () => {
    const config = configOf({ APP_URL: "https://app.example.com/", EMAIL_LINK_VERIFY_URL: "https://app.example.com/verify?token={token}" });
    expect(config.APP_URL).toBe("https://app.example.com");
  });

  it.each([
    ["EMAIL_LINK_VERIFY_URL", "https://app.example.com/verify", "must contain {token} exactly once"],
    ["EMAIL_LINK_RESET_URL", "https://app.example.com/r/{token}?again={token}", "must contain {token} exactly once"],
    ["EMAIL_LINK_RESET_URL", "/reset?token={token}", "must be an absolute http(s) URL"],
    ["EMAIL_LINK_VERIFY_URL", "javascript:alert(1)//{token}", "must be an absolute http(s) URL"],
    ["APP_URL", "https://app.example.com/app", "must be an origin"],
    ["APP_URL", "ftp://app.example.com", "Invalid URL"],
  ])("refuses %s=%s", (name, value, message) => {
    const problems = problemsOf(parseConfig({ ...base, [name]: value }));
    expect(problems.some((problem) => problem.startsWith(`${name}:`) && problem.includes(message))).toBe(true);
  });

  it("refuses http links in staging and production, and allows them in development", () => {
    const vars = { APP_URL: "http://app.example.com", EMAIL_LINK_VERIFY_URL: "http://app.example.com/v?t={token}", EMAIL_LINK_RESET_URL: "http://app.example.com/r?t={token}" };
    expect(problemsOf(parseConfig({ ...production, ...vars }))).toEqual([
      "APP_URL must be an https URL",
      "EMAIL_LINK_VERIFY_URL must be an https URL",
      "EMAIL_LINK_RESET_URL must be an https URL",
    ]);
    expect(parseConfig({ ...base, ...vars }).ok).toBe(true);
  });
});

describe("emailLink", () => {
  const token = "abc_DEF-123";

  it("points every link at the hosted pages when no frontend is configured", () => {
    const config = configOf({});
    expect(emailLink(config, "verify_email", token)).toBe(`${HOSTED}/verify-email?token=${token}`);
    expect(emailLink(config, "reset_password", token)).toBe(`${HOSTED}/reset-password?token=${token}`);
    expect(emailLink(config, "forgot_password")).toBe(`${HOSTED}/forgot-password`);
    expect(emailLink(config, "sign_in")).toBe(`${HOSTED}/account`);
    expect(["verify_email", "reset_password", "forgot_password", "sign_in"].every((kind) => isHostedLink(config, kind as "sign_in"))).toBe(true);
  });

  it("points every link at APP_URL when it is set, and hosts no page", () => {
    const config = configOf({ APP_URL: "https://app.example.com" });
    expect(emailLink(config, "verify_email", token)).toBe(`https://app.example.com/verify-email?token=${token}`);
    expect(emailLink(config, "reset_password", token)).toBe(`https://app.example.com/reset-password?token=${token}`);
    expect(emailLink(config, "forgot_password")).toBe("https://app.example.com/forgot-password");
    expect(emailLink(config, "sign_in")).toBe("https://app.example.com/login");
    expect(isHostedLink(config, "verify_email") || isHostedLink(config, "sign_in")).toBe(false);
  });

  it("uses a per-link template, with the token URL-encoded, over APP_URL", () => {
    const config = configOf({ APP_URL: "https://app.example.com", EMAIL_LINK_RESET_URL: "https://id.example.com/#/reset/{token}" });
    expect(emailLink(config, "reset_password", "a b/c")).toBe("https://id.example.com/#/reset/a%20b%2Fc");
    expect(emailLink(config, "verify_email", token)).toBe(`https://app.example.com/verify-email?token=${token}`);
  });

  it("hosts only the pages no template sends elsewhere", () => {
    const config = configOf({ EMAIL_LINK_VERIFY_URL: "https://app.example.com/verify?token={token}" });
    expect(isHostedLink(config, "verify_email")).toBe(false);
    expect(isHostedLink(config, "reset_password")).toBe(true);
    expect(emailLink(config, "reset_password", token)).toBe(`${HOSTED}/reset-password?token=${token}`);
  });
});
