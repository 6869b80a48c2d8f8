import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { API, authedFetch, createUser, login, postJson, STRONG_PASSWORD, tokenFromMail, uniqueEmail, waitForMail } from "../helpers/auth";

describe("registration, verification and login", () => {
  it("registers, verifies through the mailed link, logs in and reads the profile", async () => {
    const user = await createUser();
    const me = await authedFetch("/users/me", user.accessToken);
    expect(me.status).toBe(200);
    const profile = await me.json<Record<string, unknown>>();
    expect(profile).toMatchObject({ id: user.id, email: user.email, email_verified: true, is_active: true, is_approved: true, roles: ["user"] });
    expect(profile.permissions).toContain("profile:read");
  });

  it("answers register with the same 202 body for a new and a taken address", async () => {
    const email = uniqueEmail();
    const body = { email, password: STRONG_PASSWORD, first_name: "A", last_name: "B" };
    const first = await postJson("/auth/register", body);
    const second = await postJson("/auth/register", { ...body, email: ` ${email.toUpperCase()}` });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(await second.text()).toBe(await first.text());
    await waitForMail(email, "attempt");
    const count = await env.DB.prepare("select count(*) as n from users where email = ?").bind(email).first<{ n: number }>();
    expect(count?.n).toBe(1);
  });

  it("refuses login before verification with 403, but only after the right password", async () => {
    const email = uniqueEmail();
    await postJson("/auth/register", { email, password: STRONG_PASSWORD, first_name: "A", last_name: "B" });
    const wrong = await postJson("/auth/login", { email, password: "not the password at all" });
    expect(wrong.status).toBe(401);
    const right = await postJson("/auth/login", { email, password: STRONG_PASSWORD });
    expect(right.status).toBe(403);
    expect(await right.json()).toMatchObject({ code: "email_not_verified" });
  });

  it("rotates refresh tokens and ends the session when a rotated token is reused", async () => {
    const user = await createUser();
    const rotated = await postJson("/auth/refresh", { refresh_token: user.refreshToken });
    expect(rotated.status).toBe(200);
    const pair = await rotated.json<{ access_token: string; refresh_token: string }>();
    expect(pair.refresh_token).not.toBe(user.refreshToken);
    // Backdate the rotation past the grace period, then present the old token again.
    await env.DB.prepare("update refresh_tokens set used_at = used_at - 60000 where used_at is not null").run();
    const reuse = await postJson("/auth/refresh", { refresh_token: user.refreshToken });
    expect(reuse.status).toBe(401);
    const afterReuse = await postJson("/auth/refresh", { refresh_token: pair.refresh_token });
    expect(afterReuse.status).toBe(401);
    const me = await authedFetch("/users/me", pair.access_token);
    expect(me.status).toBe(401);
    const events = await env.DB.prepare("select action from audit_logs where target_id in (select id from sessions where user_id = ?)").bind(user.id).all<{ action: string }>();
    expect(events.results.map((row) => row.action)).toContain("session.reuse_detected");
  });

  it("lets exactly one of 10 concurrent refreshes with the same token succeed", async () => {
    const user = await createUser();
    const responses = await Promise.all(Array.from({ length: 10 }, () => postJson("/auth/refresh", { refresh_token: user.refreshToken })));
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    expect(responses.filter((response) => response.status === 401)).toHaveLength(9);
  });

  it("resets a password by emailed token, once, ending every session", async () => {
    const user = await createUser();
    const accepted = await postJson("/auth/password/forgot", { email: user.email });
    expect(accepted.status).toBe(202);
    const [mail] = await waitForMail(user.email, "reset");
    const token = tokenFromMail(mail!.text);
    const reset = await postJson("/auth/password/reset", { token, new_password: "a brand new passphrase 7" });
    expect(reset.status).toBe(204);
    expect((await postJson("/auth/password/reset", { token, new_password: "another passphrase 8" })).status).toBe(400);
    expect((await authedFetch("/users/me", user.accessToken)).status).toBe(401);
    await login(user.email, "a brand new passphrase 7");
  });

  it("publishes the public JWKS without private parts", async () => {
    const response = await SELF.fetch("http://localhost/.well-known/jwks.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=300");
    const jwks = await response.json<{ keys: Record<string, unknown>[] }>();
    expect(jwks.keys[0]).toMatchObject({ kid: "test-key-1", alg: "EdDSA", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("rejects smuggled fields in PATCH /users/me with 422 and changes nothing", async () => {
    const user = await createUser();
    const response = await authedFetch(`${API}/users/me`, user.accessToken, { method: "PATCH", body: JSON.stringify({ first_name: "Eve", roles: ["admin"] }) });
    expect(response.status).toBe(422);
    const row = await env.DB.prepare("select first_name from users where id = ?").bind(user.id).first<{ first_name: string }>();
    expect(row?.first_name).toBe("Test");
  });
});
