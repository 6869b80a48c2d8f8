import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Bindings } from "../../src/bindings";
import { configSchema } from "../../src/config";
import { loadConfig, parseConfig, type ConfigResult } from "../../src/env";

/** The vitest key: a valid Ed25519 private JWK. */
const [testKey] = JSON.parse(String(env.JWT_SIGNING_KEYS)) as Record<string, string>[];
const KEYS = JSON.stringify([testKey]);

const minimal = { ENVIRONMENT: "development", PUBLIC_BASE_URL: "http://localhost:8787", JWT_SIGNING_KEYS: KEYS };
const production = {
  ENVIRONMENT: "production",
  PUBLIC_BASE_URL: "https://auth.example.com",
  CORS_ORIGINS: "https://app.example.com",
  JWT_SIGNING_KEYS: KEYS,
  MAIL_TRANSPORT: "send_email",
  MAIL: { send: async () => {} },
  FILE_LINK_SECRET: "f".repeat(32),
  API_KEY_SECRET: "k".repeat(32),
  RATE_LIMIT_SECRET: "r".repeat(32),
  MFA_ENCRYPTION_KEYS: JSON.stringify([{ kid: "mfa-1", key: "k".repeat(43) }]),
};

function problemsOf(result: ConfigResult): string[] {
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.problems;
}

function configOf(result: ConfigResult) {
  if (!result.ok) throw new Error(`unexpected problems: ${result.problems.join("; ")}`);
  return result.config;
}

describe("parseConfig defaults", () => {
  it("fills every default from three variables", () => {
    const config = configOf(parseConfig(minimal));
    expect(config).toMatchObject({
      ENVIRONMENT: "development",
      PUBLIC_BASE_URL: "http://localhost:8787",
      CORS_ORIGINS: [],
      DOCS_PUBLIC: false,
      MAX_BODY_BYTES: 1_048_576,
      REQUEST_TIMEOUT_MS: 10_000,
      LOG_LEVEL: "info",
      JWT_ISSUER: "http://localhost:8787",
      JWT_AUDIENCE: "edge-auth-api",
      ACCESS_TOKEN_TTL: 900,
      REQUIRE_EMAIL_VERIFICATION: true,
      ARGON2_MEMORY_KIB: 32768,
      ARGON2_ITERATIONS: 2,
      ARGON2_PARALLELISM: 1,
      MAIL_TRANSPORT: "capture",
      RATE_LIMIT_OVERRIDES: {},
    });
    expect(config.JWT_SIGNING_KEYS).toHaveLength(1);
  });

  it("treats empty and blank strings as unset, trims values, and ignores non-strings", () => {
    const config = configOf(parseConfig({ ...minimal, LOG_LEVEL: "   ", MAX_BODY_BYTES: "", DOCS_PUBLIC: " true ", REQUEST_TIMEOUT_MS: 5 }));
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.MAX_BODY_BYTES).toBe(1_048_576);
    expect(config.DOCS_PUBLIC).toBe(true);
    expect(config.REQUEST_TIMEOUT_MS).toBe(10_000);
  });

  it("parses lists, booleans and numbers", () => {
    const config = configOf(
      parseConfig({ ...minimal, CORS_ORIGINS: " https://a.example , ,https://b.example", DOCS_PUBLIC: "1", REQUIRE_APPROVAL: "0", MAX_BODY_BYTES: "2048" }),
    );
    expect(config.CORS_ORIGINS).toEqual(["https://a.example", "https://b.example"]);
    expect(config.DOCS_PUBLIC).toBe(true);
    expect(config.REQUIRE_APPROVAL).toBe(false);
    expect(config.MAX_BODY_BYTES).toBe(2048);
  });

  it("drops trailing slashes from PUBLIC_BASE_URL and keeps an explicit JWT_ISSUER", () => {
    const config = configOf(parseConfig({ ...minimal, PUBLIC_BASE_URL: "http://localhost:8787//", JWT_ISSUER: "https://issuer.example.com" }));
    expect(config.PUBLIC_BASE_URL).toBe("http://localhost:8787");
    expect(config.JWT_ISSUER).toBe("https://issuer.example.com");
  });

  it("accepts the vitest configuration", () => {
    expect(parseConfig(env as unknown as Record<string, unknown>).ok).toBe(true);
  });

  it("knows every variable the README documents", () => {
    expect(Object.keys(configSchema.shape)).toEqual(
      expect.arrayContaining(["ENVIRONMENT", "PUBLIC_BASE_URL", "CORS_ORIGINS", "DOCS_PUBLIC", "MAX_BODY_BYTES", "REQUEST_TIMEOUT_MS", "LOG_LEVEL"]),
    );
  });
});

describe("parseConfig refusals in every environment", () => {
  it.each([
    ["a missing PUBLIC_BASE_URL", { PUBLIC_BASE_URL: undefined }, "PUBLIC_BASE_URL"],
    ["a non-http PUBLIC_BASE_URL", { PUBLIC_BASE_URL: "ftp://example.com" }, "PUBLIC_BASE_URL"],
    ["an unknown ENVIRONMENT", { ENVIRONMENT: "prod" }, "ENVIRONMENT"],
    ["argon2 memory an isolate cannot hold", { ARGON2_MEMORY_KIB: "131072" }, "ARGON2_MEMORY_KIB"],
    ["argon2 cost beyond one request's CPU", { ARGON2_MEMORY_KIB: "65536", ARGON2_ITERATIONS: "8" }, "ARGON2_MEMORY_KIB × ARGON2_ITERATIONS"],
    ["a missing ENVIRONMENT (never defaults to development)", { ENVIRONMENT: undefined }, "ENVIRONMENT: must be set explicitly"],
    ["development on a public URL", { PUBLIC_BASE_URL: "https://auth.example.com" }, "needs a loopback PUBLIC_BASE_URL"],
    ["test on a public URL", { ENVIRONMENT: "test", PUBLIC_BASE_URL: "http://auth.example.com" }, "needs a loopback PUBLIC_BASE_URL"],
    ["a non-numeric MAX_BODY_BYTES", { MAX_BODY_BYTES: "1MB" }, "MAX_BODY_BYTES"],
    ["a MAX_BODY_BYTES below 1 KiB", { MAX_BODY_BYTES: "10" }, "MAX_BODY_BYTES"],
    ["a REQUEST_TIMEOUT_MS below 100", { REQUEST_TIMEOUT_MS: "5" }, "REQUEST_TIMEOUT_MS"],
    ["a fractional TTL", { ACCESS_TOKEN_TTL: "90.5" }, "ACCESS_TOKEN_TTL"],
    ["a bad boolean", { DOCS_PUBLIC: "yes" }, "DOCS_PUBLIC"],
    ["an unknown LOG_LEVEL", { LOG_LEVEL: "verbose" }, "LOG_LEVEL"],
    ["RATE_LIMIT_OVERRIDES that is not JSON", { RATE_LIMIT_OVERRIDES: "{" }, "RATE_LIMIT_OVERRIDES"],
  ])("refuses %s", (_, overrides, named) => {
    const problems = problemsOf(parseConfig({ ...minimal, ...overrides }));
    expect(problems).toEqual([expect.stringContaining(named)]);
  });

  it("names every problem at once", () => {
    const problems = problemsOf(parseConfig({ ...minimal, MAX_BODY_BYTES: "x", LOG_LEVEL: "loud", DOCS_PUBLIC: "maybe" }));
    expect(problems).toHaveLength(3);
  });
});

describe("parseConfig JWT_SIGNING_KEYS", () => {
  const key = testKey as Record<string, string>;
  const withKeys = (keys: unknown) => parseConfig({ ...minimal, JWT_SIGNING_KEYS: typeof keys === "string" ? keys : JSON.stringify(keys) });

  it.each([
    ["missing", undefined, "needs at least one key"],
    ["not JSON", "not json", "is not valid JSON"],
    ["an empty list", [], "needs at least one key"],
    ["not a list", { ...key }, "JWT_SIGNING_KEYS"],
    ["a public key (no d)", [{ ...key, d: undefined }], "JWT_SIGNING_KEYS"],
    ["an RSA key", [{ ...key, kty: "RSA" }], "JWT_SIGNING_KEYS"],
    ["a path-like kid", [{ ...key, kid: "../keys/a" }], "kid must be URL-safe"],
    ["an EC key on the Ed25519 curve", [{ ...key, kty: "EC" }], "must be Ed25519 (OKP) or P-256 (EC)"],
    ["an EC key without y", [{ ...key, kty: "EC", crv: "P-256", alg: "ES256" }], "must be Ed25519 (OKP) or P-256 (EC)"],
    ["an alg that does not fit the curve", [{ ...key, alg: "ES256" }], "does not match"],
    ["duplicate kids", [key, { ...key }], "duplicate kids"],
  ])("refuses %s", (_, keys, message) => {
    const result = keys === undefined ? parseConfig({ ...minimal, JWT_SIGNING_KEYS: undefined }) : withKeys(keys);
    expect(problemsOf(result).join("\n")).toContain(message);
  });

  it("accepts a key without alg, and P-256 keys", () => {
    expect(withKeys([{ ...key, alg: undefined }]).ok).toBe(true);
    expect(withKeys([key, { kty: "EC", crv: "P-256", kid: "ec-1", x: "x", y: "y", d: "d", alg: "ES256" }]).ok).toBe(true);
  });

  it("never puts the private key in a problem", () => {
    const problems = problemsOf(withKeys([{ ...key, kty: "RSA" }]));
    expect(problems.join("\n")).not.toContain(key.d);
  });
});

describe("parseConfig in staging and production", () => {
  it("accepts a production-grade configuration", () => {
    expect(configOf(parseConfig(production)).ENVIRONMENT).toBe("production");
    expect(parseConfig({ ...production, ENVIRONMENT: "staging" }).ok).toBe(true);
    expect(parseConfig({ ...production, MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: "https://mail.example.com/send", MAIL_HTTP_API_KEY: "k" }).ok).toBe(true);
  });

  it.each([
    ["an http PUBLIC_BASE_URL", { PUBLIC_BASE_URL: "http://auth.example.com" }, "PUBLIC_BASE_URL must be an https URL"],
    ["an http CORS origin", { CORS_ORIGINS: "https://app.example.com,http://app.example.com" }, "CORS_ORIGINS may list only https origins"],
    ["MAIL_TRANSPORT=capture", { MAIL_TRANSPORT: "capture" }, "MAIL_TRANSPORT=capture is development-only"],
    ["MAIL_TRANSPORT=http without an endpoint", { MAIL_TRANSPORT: "http", MAIL_HTTP_API_KEY: "k" }, "needs MAIL_HTTP_ENDPOINT"],
    ["MAIL_TRANSPORT=http without a key", { MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: "https://mail.example.com" }, "MAIL_HTTP_API_KEY"],
    ["an http mail endpoint", { MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: "http://mail.example.com", MAIL_HTTP_API_KEY: "k" }, "MAIL_HTTP_ENDPOINT must be an https URL"],
    ["weak argon2 memory", { ARGON2_MEMORY_KIB: "19455" }, "ARGON2_*"],
    ["weak argon2 iterations", { ARGON2_ITERATIONS: "1" }, "ARGON2_*"],
    ["a missing FILE_LINK_SECRET", { FILE_LINK_SECRET: undefined }, "FILE_LINK_SECRET is missing"],
    ["a missing RATE_LIMIT_SECRET", { RATE_LIMIT_SECRET: undefined }, "RATE_LIMIT_SECRET is missing"],
    ["a short RATE_LIMIT_SECRET", { RATE_LIMIT_SECRET: "r".repeat(31) }, "RATE_LIMIT_SECRET is missing or shorter"],
    ["a short FILE_LINK_SECRET", { FILE_LINK_SECRET: "f".repeat(31) }, "FILE_LINK_SECRET is missing or shorter than 32"],
    ["LOG_LEVEL=debug", { LOG_LEVEL: "debug" }, "LOG_LEVEL=debug is development-only"],
    ["a missing API_KEY_SECRET", { API_KEY_SECRET: undefined }, "API_KEY_SECRET is missing"],
    ["a short API_KEY_SECRET", { API_KEY_SECRET: "k".repeat(31) }, "API_KEY_SECRET is missing or shorter than 32"],
  ])("refuses %s", (_, overrides, message) => {
    for (const environment of ["staging", "production"]) {
      const problems = problemsOf(parseConfig({ ...production, ENVIRONMENT: environment, ...overrides }));
      expect(problems).toEqual([expect.stringContaining(message)]);
    }
  });

  it("allows the same development settings outside staging and production", () => {
    const devSettings = { PUBLIC_BASE_URL: "http://localhost", MAIL_TRANSPORT: "capture", ARGON2_MEMORY_KIB: "64", FILE_LINK_SECRET: undefined, LOG_LEVEL: "debug" };
    expect(parseConfig({ ...production, ENVIRONMENT: "development", ...devSettings }).ok).toBe(true);
    expect(parseConfig({ ...production, ENVIRONMENT: "test", ...devSettings }).ok).toBe(true);
  });

  it("lists every production problem at once", () => {
    const problems = problemsOf(
      parseConfig({ ...production, PUBLIC_BASE_URL: "http://a.example.com", MAIL_TRANSPORT: "capture", ARGON2_ITERATIONS: "1", FILE_LINK_SECRET: undefined }),
    );
    expect(problems).toHaveLength(4);
  });
});

describe("integration settings", () => {
  it("accepts ACCESS_TOKEN_CLAIMS roles and permissions only", () => {
    expect(configOf(parseConfig({ ...production, ACCESS_TOKEN_CLAIMS: "roles, permissions" })).ACCESS_TOKEN_CLAIMS).toEqual(["roles", "permissions"]);
    expect(problemsOf(parseConfig({ ...production, ACCESS_TOKEN_CLAIMS: "roles,email" })).join("\n")).toMatch(/ACCESS_TOKEN_CLAIMS/);
  });

  it("refuses a default API-key lifetime above the maximum", () => {
    expect(problemsOf(parseConfig({ ...production, API_KEY_MAX_TTL: "86400", API_KEY_DEFAULT_TTL: "86401" }))).toEqual([
      "API_KEY_DEFAULT_TTL must not exceed API_KEY_MAX_TTL",
    ]);
  });
});

describe("loadConfig", () => {
  it("parses once per bindings object", () => {
    const bindings = { ...minimal } as unknown as Bindings;
    const first = loadConfig(bindings);
    expect(loadConfig(bindings)).toBe(first);
    expect(loadConfig({ ...minimal } as unknown as Bindings)).not.toBe(first);
  });
});

describe("the send_email binding in staging and production", () => {
  it("is required when MAIL_TRANSPORT=send_email", () => {
    const { MAIL: _binding, ...withoutBinding } = production;
    expect(problemsOf(parseConfig(withoutBinding)).join("\n")).toMatch(/MAIL send_email binding/);
    expect(parseConfig(production).ok).toBe(true);
  });
});
