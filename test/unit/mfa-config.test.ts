import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/env";
import { isMfaRequiredFor } from "../../src/middleware/assurance";
import { PRODUCTION_SETTINGS } from "../helpers/app-env";

const parse = (overrides: Record<string, unknown>) => parseConfig({ ...env, ...overrides } as Record<string, unknown>);
const problemsOf = (overrides: Record<string, unknown>) => {
  const result = parse(overrides);
  return result.ok ? [] : result.problems;
};

describe("MFA configuration", () => {
  it("production requires MFA_ENCRYPTION_KEYS and https WebAuthn origins; development may run without keys", () => {
    expect(parse({ ...PRODUCTION_SETTINGS }).ok).toBe(true);
    expect(problemsOf({ ...PRODUCTION_SETTINGS, MFA_ENCRYPTION_KEYS: undefined })).toContain("MFA_ENCRYPTION_KEYS is missing (TOTP secrets are encrypted with it)");
    expect(problemsOf({ ...PRODUCTION_SETTINGS, WEBAUTHN_ORIGINS: "http://auth.example.com" })).toContain("WEBAUTHN_ORIGINS may list only https origins");
    expect(parse({ MFA_ENCRYPTION_KEYS: undefined, ENVIRONMENT: "development" }).ok).toBe(true);
  });

  it("production WebAuthn defaults come from PUBLIC_BASE_URL", () => {
    const result = parse({ ...PRODUCTION_SETTINGS });
    if (!result.ok) throw new Error(result.problems.join());
    expect(result.config.WEBAUTHN_RP_ID).toBe("auth.example.com");
    expect(result.config.WEBAUTHN_ORIGINS).toEqual(["https://auth.example.com"]);
  });

  it("refuses malformed keys, duplicate kids and malformed policy entries", () => {
    const key = "A".repeat(43);
    expect(problemsOf({ MFA_ENCRYPTION_KEYS: JSON.stringify([{ kid: "a", key: "short" }]) }).join()).toMatch(/32 random bytes/);
    expect(problemsOf({ MFA_ENCRYPTION_KEYS: JSON.stringify([{ kid: "a", key }, { kid: "a", key }]) })).toContain("MFA_ENCRYPTION_KEYS has duplicate kids");
    expect(problemsOf({ MFA_REQUIRED_PERMISSIONS: "roles:*,Users" }).join()).toMatch(/resource:action/);
    expect(problemsOf({ WEBAUTHN_ORIGINS: "not a url" }).join()).toMatch(/not a URL/);
  });

  it("policy entries match a permission directly or by resource:*", () => {
    expect(isMfaRequiredFor("roles:write", ["roles:*"])).toBe(true);
    expect(isMfaRequiredFor("users:delete", ["users:delete"])).toBe(true);
    expect(isMfaRequiredFor("users:read", ["users:delete"])).toBe(false);
  });
});
