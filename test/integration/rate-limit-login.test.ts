import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { QUOTA_EXCEEDED_TYPE } from "../../src/lib/problem";
import { createUser, postJson, randomIp, uniqueEmail } from "../helpers/auth";
import { CORRECT_PASSWORD, freshEmail, freshIp, loginRequest, parseRateLimit, probeApp, send } from "./rate-limit-harness";

/**
 * The login lockout (issue 3, issue 4 "Brute force and abuse"): failures per normalized email,
 * 5 per 900 s by default, whatever IP headers the client sends.
 */
describe("login_account: failed logins per normalized email", () => {
  const app = probeApp();

  it("counts only failures, shows what is left, then locks out even the right password", async () => {
    const email = freshEmail();
    // A different CF-Connecting-IP and X-Forwarded-For on every try, and the email's case varied.
    const variants = [email, email.toUpperCase(), `  ${email}  `, email.replace("rl-", "RL-"), email.toUpperCase()];
    for (const [index, variant] of variants.entries()) {
      const response = await send(app, loginRequest(variant, "wrong", { "X-Forwarded-For": `192.0.2.${index}`, "X-Real-IP": `192.0.2.${index}` }));
      expect(response.status).toBe(401);
      expect(response.headers.get("RateLimit-Policy")).toContain('"login_account";q=5;w=900');
      const state = parseRateLimit(response.headers.get("RateLimit"));
      expect(state.login_account?.r).toBe(4 - index);
      expect(state.login_account?.t).toBeGreaterThan(890);
    }

    const locked = await send(app, loginRequest(email, CORRECT_PASSWORD));
    expect(locked.status).toBe(429);
    expect(locked.headers.get("Content-Type")).toBe("application/problem+json");
    const body = (await locked.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: QUOTA_EXCEEDED_TYPE,
      status: 429,
      code: "rate_limited",
      "violated-policies": ["login_account"],
    });
    const limit = parseRateLimit(locked.headers.get("RateLimit"));
    expect(Object.keys(limit)).toEqual(["login_account"]);
    expect(limit.login_account?.r).toBe(0);
    const retryAfter = Number(locked.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(limit.login_account!.t!);
    // Counted in 15 s slots (1/60 of the window), never released early: at most one slot longer.
    expect(retryAfter).toBeLessThanOrEqual(915);
    expect(locked.headers.get("RateLimit-Policy")).toMatch(/"login_ip";q=100;w=300, "login_account";q=5;w=900/);
  });

  it("treats Unicode compatibility forms of an address as the same account", async () => {
    const local = `fw${crypto.randomUUID().slice(0, 8)}`;
    const plain = `${local}@example.com`;
    // Full-width letters and ＠ fold to the plain address under NFKC.
    const fullWidth = [...plain].map((ch) => (ch >= "!" && ch <= "~" ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch)).join("");
    for (let i = 0; i < 5; i++) expect((await send(app, loginRequest(i % 2 ? fullWidth : plain, "wrong"))).status).toBe(401);
    expect((await send(app, loginRequest(fullWidth, CORRECT_PASSWORD))).status).toBe(429);
  });

  it("lets parallel wrong guesses through no more than the limit (units are reserved before the check)", async () => {
    const email = freshEmail();
    const responses = await Promise.all(Array.from({ length: 20 }, () => send(app, loginRequest(email, "wrong"))));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
  });

  it("clears the failures on a successful login", async () => {
    const email = freshEmail();
    for (let i = 0; i < 4; i++) await send(app, loginRequest(email, "wrong"));
    const success = await send(app, loginRequest(email, CORRECT_PASSWORD));
    expect(success.status).toBe(200);
    expect(parseRateLimit(success.headers.get("RateLimit")).login_account).toEqual({ r: 5 });
    for (let i = 0; i < 5; i++) expect((await send(app, loginRequest(email, "wrong"))).status).toBe(401);
    expect((await send(app, loginRequest(email, "wrong"))).status).toBe(429);
  });

  it("does not count requests that are not failed credential checks (e.g. 422)", async () => {
    const email = freshEmail();
    for (let i = 0; i < 8; i++) {
      const invalid = await send(app, loginRequest(email, ""));
      expect(invalid.status).toBe(422);
      expect(parseRateLimit(invalid.headers.get("RateLimit")).login_account?.r).toBe(5);
    }
    const failure = await send(app, loginRequest(email, "wrong"));
    expect(parseRateLimit(failure.headers.get("RateLimit")).login_account?.r).toBe(4);
  });

  it("keeps accounts apart", async () => {
    const locked = freshEmail();
    for (let i = 0; i < 5; i++) await send(app, loginRequest(locked, "wrong"));
    expect((await send(app, loginRequest(locked, "wrong"))).status).toBe(429);
    expect((await send(app, loginRequest(freshEmail(), CORRECT_PASSWORD))).status).toBe(200);
  });
});

describe("login_ip: attempts per client IP", () => {
  const app = probeApp();
  const tight = { RATE_LIMIT_OVERRIDES: JSON.stringify({ login_ip: { limit: 3, window: 300 } }) };

  it("counts every attempt from one CF-Connecting-IP, whatever X-Forwarded-For says", async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const response = await send(app, loginRequest(freshEmail(), CORRECT_PASSWORD, { "CF-Connecting-IP": ip, "X-Forwarded-For": `198.18.0.${i}`, "True-Client-IP": `198.18.1.${i}` }), tight);
      expect(response.status).toBe(200);
      expect(parseRateLimit(response.headers.get("RateLimit")).login_ip?.r).toBe(2 - i);
    }
    const blocked = await send(app, loginRequest(freshEmail(), CORRECT_PASSWORD, { "CF-Connecting-IP": ip, "X-Forwarded-For": "198.18.9.9" }), tight);
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as Record<string, unknown>)["violated-policies"]).toEqual(["login_ip"]);
    // Another client is unaffected.
    expect((await send(app, loginRequest(freshEmail(), CORRECT_PASSWORD), tight)).status).toBe(200);
  });

  it("shares one bucket among clients without CF-Connecting-IP", async () => {
    const overrides = { RATE_LIMIT_OVERRIDES: JSON.stringify({ login_ip: { limit: 1_000_000, window: 3600 } }) };
    const anonymous = (xff: string) => {
      const request = loginRequest(freshEmail(), CORRECT_PASSWORD, { "X-Forwarded-For": xff });
      request.headers.delete("CF-Connecting-IP");
      return send(app, request, overrides);
    };
    const first = parseRateLimit((await anonymous("198.18.0.1")).headers.get("RateLimit")).login_ip!.r;
    const second = parseRateLimit((await anonymous("198.18.0.2")).headers.get("RateLimit")).login_ip!.r;
    expect(second).toBe(first - 1);
  });

  it("does not count a request an account lockout refused", async () => {
    const ip = freshIp();
    const email = freshEmail();
    for (let i = 0; i < 5; i++) await send(app, loginRequest(email, "wrong"));
    const refused = await send(app, loginRequest(email, CORRECT_PASSWORD, { "CF-Connecting-IP": ip }), tight);
    expect(refused.status).toBe(429);
    const next = await send(app, loginRequest(freshEmail(), CORRECT_PASSWORD, { "CF-Connecting-IP": ip }), tight);
    expect(parseRateLimit(next.headers.get("RateLimit")).login_ip?.r).toBe(2);
  });
});

describe("on the real worker: POST /api/v1/auth/login", () => {
  const attempt = (email: string, password: string) => postJson("/auth/login", { email, password }, { ip: randomIp(), headers: { "X-Forwarded-For": randomIp() } });

  it("lets a parallel burst of wrong passwords reach the password check no more than 5 times", async () => {
    const user = await createUser();
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => attempt(user.email, "wrong password 123")))).map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    expect((await attempt(user.email.toUpperCase(), user.password)).status).toBe(429);
  });

  it("locks an unknown address exactly like an existing one (no enumeration through the limiter)", async () => {
    const user = await createUser();
    const sequence = async (email: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await attempt(email, "wrong password 123")).status);
      return statuses;
    };
    expect(await sequence(user.email)).toEqual(await sequence(uniqueEmail("nobody")));
  });

  it("documents the limits on the login operation", async () => {
    const document = (await (await SELF.fetch("http://localhost/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }> }>>;
    };
    const responses = document.paths["/api/v1/auth/login"]!.post!.responses;
    expect(responses["429"]?.content?.["application/problem+json"]?.schema).toEqual({ $ref: "#/components/schemas/RateLimitProblem" });
    expect(Object.keys(responses["429"]?.headers ?? {})).toEqual(expect.arrayContaining(["Retry-After", "RateLimit", "RateLimit-Policy"]));
    expect(Object.keys(responses["200"]?.headers ?? {})).toEqual(expect.arrayContaining(["RateLimit", "RateLimit-Policy"]));
  });
});
