import { env, listDurableObjectIds } from "cloudflare:test";
import { EMAIL_SHARDS } from "../../src/lib/rate-limit/keys";
import { describe, expect, it } from "vitest";
import { authedFetch, createUser, postJson, randomIp, uniqueEmail } from "../helpers/auth";

describe("brute-force protection on the real auth routes", () => {
  it("locks an account after 5 failures whatever IP headers or email case are sent, even against the right password", async () => {
    const user = await createUser();
    const variants = [user.email, user.email.toUpperCase(), ` ${user.email}`, user.email.replace("@", "\uFF20").toUpperCase(), `${user.email} `];
    for (const [index, email] of variants.entries()) {
      const ip = randomIp();
      const response = await postJson("/auth/login", { email, password: `wrong password ${index}` }, { ip, headers: { "X-Forwarded-For": randomIp(), "X-Real-IP": randomIp(), "True-Client-IP": randomIp() } });
      expect(response.status).toBe(401);
      expect(response.headers.get("RateLimit-Policy")).toContain('"login_account";q=5;w=900');
      expect(response.headers.get("RateLimit")).toContain(`"login_account";r=${4 - index}`);
    }
    const locked = await postJson("/auth/login", { email: user.email, password: user.password }, { ip: randomIp() });
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    const limitField = locked.headers.get("RateLimit") ?? "";
    const t = Number(/"login_account";r=0;t=(\d+)/.exec(limitField)?.[1]);
    expect(retryAfter).toBeGreaterThanOrEqual(t);
    const body = await locked.json<Record<string, unknown>>();
    expect(body).toMatchObject({ status: 429, type: "https://iana.org/assignments/http-problem-types#quota-exceeded", "violated-policies": ["login_account"] });
    expect(locked.headers.get("Content-Type")).toContain("application/problem+json");
  });

  it("counts only failures: a successful login clears the account's failure count", async () => {
    const user = await createUser();
    for (let attempt = 0; attempt < 4; attempt++) {
      expect((await postJson("/auth/login", { email: user.email, password: "wrong wrong wrong" })).status).toBe(401);
    }
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(200);
    const after = await postJson("/auth/login", { email: user.email, password: "wrong wrong wrong" });
    expect(after.status).toBe(401);
    expect(after.headers.get("RateLimit")).toContain('"login_account";r=4');
  });

  it("limits an unknown email exactly like a known one (no enumeration through the limiter)", async () => {
    const email = uniqueEmail("ghost");
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) statuses.push((await postJson("/auth/login", { email, password: "whatever it is" })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("limits password-reset requests per email", async () => {
    const email = uniqueEmail("reset");
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) statuses.push((await postJson("/auth/password/forgot", { email })).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });

  it("keys per-IP limits on CF-Connecting-IP only", async () => {
    const ip = randomIp();
    const response = await postJson("/auth/register", { email: uniqueEmail(), password: "a fine long passphrase", first_name: "A", last_name: "B" }, { ip });
    expect(response.headers.get("RateLimit")).toMatch(/"register_ip";r=59/);
    const rows = await env.DB.prepare("select count(*) as n from users").first<{ n: number }>();
    expect(rows?.n).toBeGreaterThan(0);
  });
});

describe("email-keyed limits do not reveal never-seen addresses", () => {
  it("keeps every email's bucket in a fixed set of shared, warm objects (no cold object per new address)", async () => {
    const ip = randomIp();
    // One request first so the per-IP object and the email shards exist.
    await postJson("/auth/login", { email: uniqueEmail("warm"), password: "whatever it is" }, { ip });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = (await listDurableObjectIds(env.RATE_LIMITER)).length;
    for (let attempt = 0; attempt < 40; attempt++) {
      const response = await postJson("/auth/login", { email: uniqueEmail("fresh"), password: "whatever it is" }, { ip });
      expect(response.status).toBe(401);
    }
    const after = (await listDurableObjectIds(env.RATE_LIMITER)).length;
    expect(after - before).toBeLessThanOrEqual(0);
    expect(after - before).toBeLessThan(EMAIL_SHARDS);
  });
});

describe("password change with a stolen access token", () => {
  it("locks password changes after 5 wrong current passwords, even the right one, and counts only wrong ones", async () => {
    const user = await createUser();
    const change = (current: string, next = "a different passphrase 9") => authedFetch("/auth/password/change", user.accessToken, { method: "POST", body: JSON.stringify({ current_password: current, new_password: next }) });
    // A policy failure (weak new password) is not a wrong current password: refunded.
    expect((await change(user.password, "short")).status).toBe(422);
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await change(`guess number ${attempt}`);
      expect(response.status).toBe(403);
      expect(response.headers.get("RateLimit")).toContain(`"password_change_user";r=${4 - attempt}`);
    }
    const locked = await change(user.password);
    expect(locked.status).toBe(429);
    expect(await locked.json()).toMatchObject({ "violated-policies": ["password_change_user"] });
    const row = await env.DB.prepare("select password_hash from users where id = ?").bind(user.id).first<{ password_hash: string }>();
    // The password is unchanged: the user can still log in with it.
    expect(row?.password_hash).toBeTruthy();
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(200);
  });
});
