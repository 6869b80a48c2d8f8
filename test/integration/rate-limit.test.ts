import { OpenAPIHono } from "@hono/zod-openapi";
import { SELF } from "cloudflare:test";
import { createUser } from "../helpers/auth";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/bindings";
import { QUOTA_EXCEEDED_TYPE } from "../../src/lib/problem";
import { type KeySource, rateLimit } from "../../src/middleware/rate-limit";
import { captureLogs } from "../helpers/app-env";
import { brokenLimiter, CORRECT_PASSWORD, countingLimiter, freshEmail, freshIp, loginRequest, parseRateLimit, probeApp, send } from "./rate-limit-harness";

const limitTo = (policy: string, limit: number, window: number) => ({ RATE_LIMIT_OVERRIDES: JSON.stringify({ [policy]: { limit, window } }) });

function get(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://localhost${path}`, { headers: { "CF-Connecting-IP": freshIp(), ...headers } });
}

describe("route middleware", () => {
  const app = probeApp();

  it("shows exact numbers on each response, then answers 429 with the problem and the fields", async () => {
    const ip = freshIp();
    const overrides = limitTo("register_ip", 3, 60);
    for (let i = 0; i < 3; i++) {
      const response = await send(app, get("/api/test/ip-limited", { "CF-Connecting-IP": ip }), overrides);
      expect(response.status).toBe(200);
      // Anonymous /api traffic: the global per-IP policy applies as well, and both are listed.
      expect(response.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60, "register_ip";q=3;w=60');
      const state = parseRateLimit(response.headers.get("RateLimit")).register_ip;
      expect(state?.r).toBe(2 - i);
      expect(state?.t).toBeGreaterThanOrEqual(59);
      // Units are counted in slots of 1/60 of the window, named by their end: up to one second more.
      expect(state?.t).toBeLessThanOrEqual(61);
    }
    const rejected = await send(app, get("/api/test/ip-limited", { "CF-Connecting-IP": ip }), overrides);
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get("Content-Type")).toBe("application/problem+json");
    expect(rejected.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60, "register_ip";q=3;w=60');
    expect(rejected.headers.get("RateLimit")).toMatch(/^"register_ip";r=0;t=\d+$/);
    const t = parseRateLimit(rejected.headers.get("RateLimit")).register_ip!.t!;
    expect(Number(rejected.headers.get("Retry-After"))).toBeGreaterThanOrEqual(t);
    const body = (await rejected.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ type: QUOTA_EXCEEDED_TYPE, status: 429, code: "rate_limited", "violated-policies": ["register_ip"] });
    expect(body.instance).toBe(rejected.headers.get("X-Request-Id"));
  });

  it("lets exactly 50 of 200 parallel requests through a limit of 50", async () => {
    const ip = freshIp();
    const overrides = limitTo("register_ip", 50, 3600);
    const responses = await Promise.all(Array.from({ length: 200 }, () => send(app, get("/api/test/ip-limited", { "CF-Connecting-IP": ip }), overrides)));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(50);
    expect(statuses.filter((status) => status === 429)).toHaveLength(150);
    const remaining = responses.filter((response) => response.status === 200).map((response) => parseRateLimit(response.headers.get("RateLimit")).register_ip!.r);
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => index));
  });

  it("makes one limiter call per key: the global per-IP policy joins the route's IP policies", async () => {
    const counting = countingLimiter();
    const response = await send(app, get("/api/test/ip-limited"), counting.bindings);
    expect(response.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60, "register_ip";q=60;w=3600');
    expect(counting.calls()).toBe(1);
    // Login: one call for the IP (api_anonymous + login_ip), one for the email; a 401 needs no more.
    const login = countingLimiter();
    const failed = await send(app, loginRequest(freshEmail(), "wrong"), login.bindings);
    expect(failed.status).toBe(401);
    expect(failed.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60, "login_ip";q=100;w=300, "login_account";q=5;w=900');
    expect(login.calls()).toBe(2);
  });

  it("counts IPv6 clients by their /64", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`;
    const overrides = limitTo("register_ip", 2, 60);
    expect((await send(app, get("/api/test/ip-limited", { "CF-Connecting-IP": `${prefix}::1` }), overrides)).status).toBe(200);
    expect((await send(app, get("/api/test/ip-limited", { "CF-Connecting-IP": `${prefix}:0:0:0:2` }), overrides)).status).toBe(200);
    expect((await send(app, get("/api/test/ip-limited", { "CF-Connecting-IP": `${prefix}:ffff::3` }), overrides)).status).toBe(429);
  });

  it("fails closed with a 503 problem when a fail-closed policy's limiter throws", async () => {
    const logs = captureLogs();
    try {
      const response = await send(app, loginRequest(freshEmail(), CORRECT_PASSWORD), brokenLimiter());
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("5");
      expect(await response.json()).toMatchObject({ code: "service_unavailable", status: 503 });
    } finally {
      logs.restore();
    }
  });

  it("fails open, with a warning in the log, when only fail-open policies are affected", async () => {
    const logs = captureLogs();
    try {
      const response = await send(app, get("/api/test/user", { "X-Test-User": "fail-open-user" }), { ...brokenLimiter(), LOG_LEVEL: "warn" });
      expect(response.status).toBe(200);
      expect(response.headers.get("RateLimit")).toBeNull();
      const warnings = logs.json().filter((line) => line.level === "warn" && line.message === "rate limiter unavailable; failing open");
      expect(warnings.map((line) => line.policies)).toEqual([["api_anonymous"], ["api_user"]]);
    } finally {
      logs.restore();
    }
  });
});

describe("enforceRateLimits (programmatic, as the auth middleware uses it)", () => {
  const app = probeApp();

  it("limits per user id whatever the IP, with the fields on successes and on errors", async () => {
    const user = `user-${crypto.randomUUID()}`;
    const overrides = limitTo("api_user", 2, 60);
    const first = await send(app, get("/api/test/user", { "X-Test-User": user }), overrides);
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60, "api_user";q=2;w=60');
    // api_user is approximate (leased): its quota is stated, a remaining count it cannot know is not.
    expect(first.headers.get("RateLimit")).toBeNull();
    const failing = await send(app, get("/api/test/user-fails", { "X-Test-User": user }), overrides);
    expect(failing.status).toBe(404);
    expect(failing.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60, "api_user";q=2;w=60');
    expect(failing.headers.get("RateLimit")).toBeNull();
    const rejected = await send(app, get("/api/test/user", { "X-Test-User": user }), overrides);
    expect(rejected.status).toBe(429);
    expect(((await rejected.json()) as Record<string, unknown>)["violated-policies"]).toEqual(["api_user"]);
    expect((await send(app, get("/api/test/user", { "X-Test-User": `${user}-other` }), overrides)).status).toBe(200);
  });
});

describe("api_anonymous on the real worker", () => {
  it("limits /api requests without Authorization per client IP and labels the response", async () => {
    const ip = freshIp();
    const response = await SELF.fetch("http://localhost/api/v1/no-such-route", { headers: { "CF-Connecting-IP": ip } });
    expect(response.status).toBe(404);
    expect(response.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60');
    // Approximate (leased): no remaining count is claimed.
    expect(response.headers.get("RateLimit")).toBeNull();
  });

  it("leaves requests with a valid access token to the per-user limit", async () => {
    const user = await createUser();
    const response = await SELF.fetch("http://localhost/api/v1/users/me", { headers: { "CF-Connecting-IP": freshIp(), Authorization: `Bearer ${user.accessToken}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("RateLimit-Policy")).toBe('"api_user";q=600;w=60');
  });

  it("counts a junk, forged or expired Authorization header against the per-IP limit", async () => {
    for (const authorization of ["Bearer x", "Bearer aaaaaaaaaa.bbbbbbbbbb.cccccccccc", "Basic dXNlcjpwYXNz"]) {
      const response = await SELF.fetch("http://localhost/api/v1/no-such-route", { headers: { "CF-Connecting-IP": freshIp(), Authorization: authorization } });
      expect(response.headers.get("RateLimit-Policy"), authorization).toBe('"api_anonymous";q=300;w=60');
    }
  });

  it("does not touch /health, /docs or /openapi.json", async () => {
    for (const path of ["/health", "/openapi.json"]) {
      const response = await SELF.fetch(`http://localhost${path}`, { headers: { "CF-Connecting-IP": freshIp() } });
      expect(response.headers.get("RateLimit-Policy"), path).toBeNull();
    }
  });

  it("answers 429 once the IP has used its allowance", async () => {
    const app = probeApp();
    const ip = freshIp();
    const overrides = limitTo("api_anonymous", 2, 60);
    for (let i = 0; i < 2; i++) expect((await send(app, get("/api/v1/no-such-route", { "CF-Connecting-IP": ip }), overrides)).status).toBe(404);
    const rejected = await send(app, get("/api/v1/no-such-route", { "CF-Connecting-IP": ip, "X-Forwarded-For": "192.0.2.1" }), overrides);
    expect(rejected.status).toBe(429);
    expect(((await rejected.json()) as Record<string, unknown>)["violated-policies"]).toEqual(["api_anonymous"]);
    // Also where a route's own limiter performs the check.
    const limitedRoute = await send(app, get("/api/test/ip-limited", { "CF-Connecting-IP": ip }), overrides);
    expect(limitedRoute.status).toBe(429);
    expect(((await limitedRoute.json()) as Record<string, unknown>)["violated-policies"]).toEqual(["api_anonymous"]);
  });
});

describe("configuration", () => {
  it("refuses to serve with invalid RATE_LIMIT_OVERRIDES", async () => {
    const logs = captureLogs();
    try {
      const response = await send(probeApp(), get("/api/test/ip-limited"), { RATE_LIMIT_OVERRIDES: JSON.stringify({ login_acount: { limit: 10 } }) });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ code: "misconfigured" });
      expect(logs.lines.join("\n")).toContain("RATE_LIMIT_OVERRIDES.login_acount: unknown rate-limit policy");
    } finally {
      logs.restore();
    }
  });
});

describe("OpenAPI", () => {
  it("documents the 429 response and the RateLimit fields of a limited route", () => {
    const document = probeApp().getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    const responses = document.paths?.["/api/test/login"]?.post?.responses as Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
    expect(Object.keys(responses["429"]?.headers ?? {})).toEqual(expect.arrayContaining(["Retry-After", "RateLimit", "RateLimit-Policy"]));
    expect(responses["429"]?.content?.["application/problem+json"]).toEqual({ schema: { $ref: "#/components/schemas/RateLimitProblem" } });
    expect(Object.keys(responses["200"]?.headers ?? {})).toEqual(expect.arrayContaining(["RateLimit", "RateLimit-Policy"]));
    expect(Object.keys(responses["401"]?.headers ?? {})).toEqual(expect.arrayContaining(["RateLimit", "RateLimit-Policy"]));
    // Extends the shared Problem schema: allOf [Problem, { violated-policies, ... }].
    const schema = document.components?.schemas?.RateLimitProblem as { allOf: { $ref?: string; properties?: Record<string, unknown> }[] };
    expect(schema.allOf[0]).toEqual({ $ref: "#/components/schemas/Problem" });
    expect(Object.keys(schema.allOf[1]?.properties ?? {})).toContain("violated-policies");
  });
});

describe("key sources", () => {
  const app = probeApp();
  const probes = new OpenAPIHono<AppEnv>();
  const session = (source: KeySource) => rateLimit({ policies: ["refresh_session"], session: source });
  probes.get("/api/keys/param/:id", session("param.id"), (c) => c.json({ ok: true }));
  probes.get("/api/keys/query", session("query.s"), (c) => c.json({ ok: true }));
  probes.get("/api/keys/header", session("header.X-Session"), (c) => c.json({ ok: true }));
  probes.get("/api/keys/function", session((c) => c.req.query("s")?.toUpperCase()), (c) => c.json({ ok: true }));
  probes.post("/api/keys/nested", rateLimit({ policies: ["password_forgot_email"], email: "body.account.email" }), (c) => c.json({ ok: true }));
  app.route("/", probes);

  const remaining = async (request: Request, policy: string) => parseRateLimit((await send(app, request)).headers.get("RateLimit"))[policy]?.r;

  it("reads keys from path parameters, the query, headers, functions and nested body fields", async () => {
    const id = crypto.randomUUID();
    expect(await remaining(get(`/api/keys/param/${id}`), "refresh_session")).toBe(29);
    expect(await remaining(get(`/api/keys/query?s=${id}`), "refresh_session")).toBe(28);
    expect(await remaining(get("/api/keys/header", { "X-Session": id }), "refresh_session")).toBe(27);
    // The function upper-cases: another key, another bucket.
    expect(await remaining(get(`/api/keys/function?s=${id}`), "refresh_session")).toBe(29);
    const email = freshEmail();
    const nested = (value: unknown) =>
      new Request("http://localhost/api/keys/nested", { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshIp() }, body: JSON.stringify({ account: { email: value } }) });
    expect(await remaining(nested(email.toUpperCase()), "password_forgot_email")).toBe(4);
    expect(await remaining(nested(` ${email}`), "password_forgot_email")).toBe(3);
  });

  it("skips a policy whose key is absent or not a string", async () => {
    const response = await send(app, get("/api/keys/query"));
    expect(response.status).toBe(200);
    expect(response.headers.get("RateLimit-Policy")).toBe('"api_anonymous";q=300;w=60');
    const notString = new Request("http://localhost/api/keys/nested", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"account":{"email":42}}' });
    expect((await send(app, notString)).headers.get("RateLimit-Policy")).not.toContain("password_forgot_email");
  });

  it("refuses, at startup, a policy without the key it needs", () => {
    expect(() => rateLimit({ policies: ["login_account"] })).toThrow(/login_account is keyed by email; pass options.email/);
  });
});
