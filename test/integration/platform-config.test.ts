import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { bindingsWith, callApp, captureLogs, expectProblem, expectSecurityHeaders, PRODUCTION_SETTINGS } from "../helpers/app-env";

/** One request under the production settings plus `overrides`; the log lines it wrote are returned too. */
async function production(url: string, init?: RequestInit, overrides: Record<string, unknown> = {}) {
  const logs = captureLogs();
  try {
    const response = await callApp(url, init, { env: { ...PRODUCTION_SETTINGS, ...overrides } });
    return { response, logs: logs.json() };
  } finally {
    logs.restore();
  }
}

describe("HTTPS under a production configuration", () => {
  it("serves https with HSTS", async () => {
    const { response } = await production("https://auth.example.com/health");
    expect(response.status).toBe(200);
    expect(response.headers.get("Strict-Transport-Security")).toBe("max-age=31536000; includeSubDomains");
  });

  it("redirects an http GET with 308 to the same https URL, query included", async () => {
    const { response } = await production("http://auth.example.com/problems/not_found?lang=en");
    expect(response.status).toBe(308);
    expect(response.headers.get("Location")).toBe("https://auth.example.com/problems/not_found?lang=en");
    expectSecurityHeaders(response);
  });

  it("redirects an http HEAD with 308", async () => {
    const { response } = await production("http://auth.example.com/health", { method: "HEAD" });
    expect(response.status).toBe(308);
    expect(response.headers.get("Location")).toBe("https://auth.example.com/health");
  });

  it.each(["POST", "PUT", "PATCH", "DELETE"])("refuses an http %s with a 400 problem instead of redirecting", async (method) => {
    const { response } = await production("http://auth.example.com/api/v1/auth/login", {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "a@example.com", password: "sent in clear" }),
    });
    const body = await expectProblem(response, 400, "https_required");
    expect(body.type).toBe("https://auth.example.com/problems/https_required");
    expect(response.headers.get("Location")).toBeNull();
    expectSecurityHeaders(response);
  });

  it("applies the same rule in staging", async () => {
    const { response } = await production("http://auth.example.com/health", undefined, { ENVIRONMENT: "staging" });
    expect(response.status).toBe(308);
  });

  it("serves plain http in development and test", async () => {
    const { response } = await production("http://127.0.0.1:8787/health", undefined, {
      ENVIRONMENT: "development",
      PUBLIC_BASE_URL: "http://127.0.0.1:8787",
      MAIL_TRANSPORT: "capture",
    });
    expect(response.status).toBe(200);
  });
});

describe("fail closed on a bad production configuration", () => {
  it("runs with the valid production settings", async () => {
    const { response } = await production("https://auth.example.com/health");
    expect(response.status).toBe(200);
  });

  const secretValue = "short-secret-VALUE";
  it.each([
    ["a missing FILE_LINK_SECRET", { FILE_LINK_SECRET: undefined }, "FILE_LINK_SECRET"],
    ["a weak FILE_LINK_SECRET", { FILE_LINK_SECRET: secretValue }, "FILE_LINK_SECRET"],
    ["no JWT signing key", { JWT_SIGNING_KEYS: undefined }, "JWT_SIGNING_KEYS"],
    ["a missing API_KEY_SECRET", { API_KEY_SECRET: undefined }, "API_KEY_SECRET"],
    ["MAIL_TRANSPORT=capture", { MAIL_TRANSPORT: "capture" }, "MAIL_TRANSPORT=capture"],
    ["MAIL_TRANSPORT=http without its key", { MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: "https://mail.example.com/send" }, "MAIL_HTTP_API_KEY"],
    ["weak argon2 memory", { ARGON2_MEMORY_KIB: "64" }, "ARGON2"],
    ["weak argon2 iterations", { ARGON2_ITERATIONS: "1" }, "ARGON2"],
    ["an http PUBLIC_BASE_URL", { PUBLIC_BASE_URL: "http://auth.example.com" }, "PUBLIC_BASE_URL"],
    ["an http CORS origin", { CORS_ORIGINS: "https://app.example.com,http://app.example.com" }, "CORS_ORIGINS"],
    ["LOG_LEVEL=debug", { LOG_LEVEL: "debug" }, "LOG_LEVEL=debug"],
  ])("answers 503 misconfigured with %s, naming it in the log only", async (_, overrides, named) => {
    const { response, logs } = await production("https://auth.example.com/health", undefined, overrides);
    const text = await response.clone().text();
    const body = await expectProblem(response, 503, "misconfigured");
    expect(response.headers.get("Retry-After")).toBe("60");
    expectSecurityHeaders(response);
    // The body says nothing about which setting is wrong.
    expect(text).not.toContain(named);
    expect(text).not.toMatch(/SECRET|JWT|ARGON2|MAIL|PUBLIC_BASE_URL|CORS|LOG_LEVEL/);
    expect(text).not.toContain(secretValue);
    expect(body.detail).toBe("The service configuration is invalid; the operator has been told what to fix.");
    // The log says exactly what is wrong, without the secret's value.
    const report = logs.find((line) => line.message === "configuration invalid");
    expect(report?.problems).toEqual(expect.arrayContaining([expect.stringContaining(named)]));
    expect(JSON.stringify(logs)).not.toContain(secretValue);
  });

  it("answers every route, and every method, with the same 503", async () => {
    for (const [path, method] of [
      ["/health/ready", "GET"],
      ["/nope", "GET"],
      ["/api/v1/auth/login", "POST"],
    ] as const) {
      const { response } = await production(`https://auth.example.com${path}`, { method }, { MAIL_TRANSPORT: "capture" });
      await expectProblem(response, 503, "misconfigured");
    }
  });

  it("refuses an invalid variable in any environment", async () => {
    const { response, logs } = await production("http://localhost/health", undefined, {
      ENVIRONMENT: "test",
      PUBLIC_BASE_URL: "http://localhost",
      MAX_BODY_BYTES: "lots",
    });
    await expectProblem(response, 503, "misconfigured");
    const report = logs.find((line) => line.message === "configuration invalid");
    expect(report?.problems).toEqual([expect.stringContaining("MAX_BODY_BYTES")]);
  });

  it("logs the configuration report once per isolate, not per request", async () => {
    const logs = captureLogs();
    try {
      const app = createApp();
      const bindings = bindingsWith({ ...PRODUCTION_SETTINGS, MAIL_TRANSPORT: "capture" });
      for (let i = 0; i < 3; i++) {
        const response = await app.fetch(new Request("https://auth.example.com/health"), bindings, createExecutionContext());
        expect(response.status).toBe(503);
      }
      expect(logs.json().filter((line) => line.message === "configuration invalid")).toHaveLength(1);
      expect(logs.json().filter((line) => line.message === "request")).toHaveLength(3);
    } finally {
      logs.restore();
    }
  });
});
