import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../../src/lib/password";
import { login as loginService, verifyEmail } from "../../src/modules/auth/auth.service";
import { changePassword, resetPassword } from "../../src/modules/auth/password.service";
import { refreshSession } from "../../src/modules/auth/session.service";
import { createUser, postJson, STRONG_PASSWORD, tokenFromMail, uniqueEmail, waitForMail, type TestUser } from "../helpers/auth";
import { call } from "../helpers/rbac";
import { failingBatchDb, interleavedDb, serviceDeps } from "../helpers/services";

const NEW_PASSWORD = "a brand new passphrase 77";

/** Resets `user`'s password through the real emailed link; returns after the 204. */
async function resetThroughEmail(user: TestUser, password = NEW_PASSWORD): Promise<void> {
  const before = (await waitForMail(user.email, "reset", -1).catch(() => [])).length;
  expect((await postJson("/auth/password/forgot", { email: user.email })).status).toBe(202);
  const mails = await waitForMail(user.email, "reset", before);
  const response = await postJson("/auth/password/reset", { token: tokenFromMail(mails[0]!.text), new_password: password });
  expect(response.status, await response.clone().text()).toBe(204);
}

const liveSessions = async (userId: string) =>
  (await env.DB.prepare("select count(*) as n from sessions where user_id = ? and ended_at is null").bind(userId).first<{ n: number }>())!.n;

const loginStatus = async (email: string, password: string) => (await postJson("/auth/login", { email, password })).status;

describe("a login in flight loses to a change that lands while it hashes", () => {
  it("password reset: the login answers 401, creates no session, and the old password stays dead", async () => {
    const user = await createUser();
    const sessionsBefore = await liveSessions(user.id);
    const db = interleavedDb(() => resetThroughEmail(user));
    await expect(loginService(serviceDeps(db), user.email, user.password)).rejects.toMatchObject({ code: "invalid_credentials", status: 401 });
    expect(sessionsBefore).toBeGreaterThan(0);
    expect(await liveSessions(user.id)).toBe(0);
    expect(await loginStatus(user.email, user.password)).toBe(401);
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
  }, 30_000);

  it("password reset with a pending rehash: the rehash does not overwrite the new password's hash", async () => {
    const user = await createUser();
    // A stored hash weaker than the configured parameters: the next good login rehashes it.
    const weak = await hashPassword(user.password, { memoryKib: 16, iterations: 1, parallelism: 1 });
    await env.DB.prepare("update users set password_hash = ? where id = ?").bind(weak, user.id).run();
    const db = interleavedDb(() => resetThroughEmail(user));
    await expect(loginService(serviceDeps(db), user.email, user.password)).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
    expect(await loginStatus(user.email, user.password)).toBe(401);
  }, 30_000);

  it("password change from another session: the login answers 401", async () => {
    const user = await createUser();
    const db = interleavedDb(async () => {
      const response = await call(user.accessToken, "POST", "/auth/password/change", { current_password: user.password, new_password: NEW_PASSWORD });
      expect(response.status).toBe(204);
    });
    await expect(loginService(serviceDeps(db), user.email, user.password)).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(await liveSessions(user.id)).toBe(1);
  }, 30_000);

  it("an administrator disabling the account: the login answers 401 and no session survives", async () => {
    const [admin, user] = await Promise.all([createUser({ roles: ["admin"] }), createUser()]);
    const db = interleavedDb(async () => {
      expect((await call(admin.accessToken, "PATCH", `/users/${user.id}`, { is_active: false })).status).toBe(200);
    });
    await expect(loginService(serviceDeps(db), user.email, user.password)).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(await liveSessions(user.id)).toBe(0);
  }, 30_000);

  it("an administrator deleting the account: the login answers 401 (no orphan session, no 500)", async () => {
    const [admin, user] = await Promise.all([createUser({ roles: ["admin"] }), createUser()]);
    const db = interleavedDb(async () => {
      expect((await call(admin.accessToken, "DELETE", `/users/${user.id}`)).status).toBe(204);
    });
    await expect(loginService(serviceDeps(db), user.email, user.password)).rejects.toMatchObject({ code: "invalid_credentials" });
    expect((await env.DB.prepare("select count(*) as n from sessions where user_id = ?").bind(user.id).first<{ n: number }>())!.n).toBe(0);
  }, 30_000);
});

describe("a refresh in flight loses to a change that lands meanwhile", () => {
  for (const [name, change] of [
    ["password reset", (_admin: TestUser, user: TestUser) => resetThroughEmail(user)],
    ["disable", async (admin: TestUser, user: TestUser) => expect((await call(admin.accessToken, "PATCH", `/users/${user.id}`, { is_active: false })).status).toBe(200)],
    ["logout", async (_admin: TestUser, user: TestUser) => expect((await postJson("/auth/logout", { refresh_token: user.refreshToken })).status).toBe(204)],
  ] as const) {
    it(`${name}: the refresh answers 401 and issues no token`, async () => {
      const [admin, user] = await Promise.all([createUser({ roles: ["admin"] }), createUser()]);
      const tokensBefore = (await env.DB.prepare("select count(*) as n from refresh_tokens").first<{ n: number }>())!.n;
      const db = interleavedDb(() => change(admin, user));
      await expect(refreshSession(serviceDeps(db), user.refreshToken)).rejects.toMatchObject({ code: "invalid_refresh_token", status: 401 });
      const issued = await env.DB.prepare(
        "select count(*) as n from refresh_tokens rt join sessions s on s.id = rt.session_id where s.user_id = ? and rt.used_at is null and s.ended_at is null",
      )
        .bind(user.id)
        .first<{ n: number }>();
      expect(issued!.n).toBe(0);
      expect((await env.DB.prepare("select count(*) as n from refresh_tokens").first<{ n: number }>())!.n).toBeGreaterThanOrEqual(tokensBefore);
    }, 30_000);
  }
});

describe("a password change loses to a reset that lands while it hashes", () => {
  it("answers 403 current_password_incorrect and leaves the reset's password in place", async () => {
    const user = await createUser();
    const sessionId = (await env.DB.prepare("select id from sessions where user_id = ? and ended_at is null").bind(user.id).first<{ id: string }>())!.id;
    const db = interleavedDb(() => resetThroughEmail(user));
    await expect(changePassword(serviceDeps(db), { userId: user.id, sessionId }, user.password, "attacker chosen passphrase 9")).rejects.toMatchObject({
      code: "current_password_incorrect",
    });
    expect(await loginStatus(user.email, NEW_PASSWORD)).toBe(200);
  }, 30_000);
});

describe("emailed tokens are claimed in the batch that makes the change", () => {
  it("a reset whose batch fails leaves the token usable and the password unchanged", async () => {
    const user = await createUser();
    expect((await postJson("/auth/password/forgot", { email: user.email })).status).toBe(202);
    const token = tokenFromMail((await waitForMail(user.email, "reset"))[0]!.text);
    await expect(resetPassword(serviceDeps(failingBatchDb()), token, NEW_PASSWORD)).rejects.toThrow(/D1_ERROR/);
    expect(await loginStatus(user.email, user.password)).toBe(200);
    expect((await postJson("/auth/password/reset", { token, new_password: NEW_PASSWORD })).status).toBe(204);
  }, 30_000);

  it("a verification whose batch fails leaves the token usable", async () => {
    const email = uniqueEmail("verify-fail");
    expect((await postJson("/auth/register", { email, password: STRONG_PASSWORD, first_name: "V", last_name: "F" })).status).toBe(202);
    const token = tokenFromMail((await waitForMail(email, "verify"))[0]!.text);
    await expect(verifyEmail(serviceDeps(failingBatchDb()), token)).rejects.toThrow(/D1_ERROR/);
    expect((await postJson("/auth/verify-email", { token })).status).toBe(204);
  }, 30_000);

  it("two resets with one token racing: exactly one wins, the other gets 400 invalid_token", async () => {
    const user = await createUser();
    expect((await postJson("/auth/password/forgot", { email: user.email })).status).toBe(202);
    const token = tokenFromMail((await waitForMail(user.email, "reset"))[0]!.text);
    const db = interleavedDb(async () => {
      expect((await postJson("/auth/password/reset", { token, new_password: "the other passphrase 55" })).status).toBe(204);
    });
    await expect(resetPassword(serviceDeps(db), token, NEW_PASSWORD)).rejects.toMatchObject({ code: "invalid_token", status: 400 });
    expect(await loginStatus(user.email, "the other passphrase 55")).toBe(200);
  }, 30_000);
});
