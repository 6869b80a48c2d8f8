/*
 * How the second factor composes with the rest of the service: security's in-batch guards and
 * device tokens, and the integration surface's API keys and service accounts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { verifyLoginSecondFactor } from "../../src/modules/mfa/mfa-login.service";
import { createKey } from "../helpers/api-keys";
import { callApp, expectProblem } from "../helpers/app-env";
import { API, authedFetch, createUser, postJson, randomIp, tokenFromMail, waitForMail, type TestUser } from "../helpers/auth";
import { claimsOf, enrollTotp, expireStepUp, freshTotp, loginToMfa } from "../helpers/mfa";
import { call, createAdmin, expectJson } from "../helpers/rbac";
import { interleavedDb, serviceDeps } from "../helpers/services";

const NEW_PASSWORD = "a brand new passphrase 77";

async function resetThroughEmail(user: TestUser): Promise<void> {
  const before = (await waitForMail(user.email, "reset", -1).catch(() => [])).length;
  expect((await postJson("/auth/password/forgot", { email: user.email })).status).toBe(202);
  const mails = await waitForMail(user.email, "reset", before);
  const response = await postJson("/auth/password/reset", { token: tokenFromMail(mails[0]!.text), new_password: NEW_PASSWORD });
  expect(response.status, await response.clone().text()).toBe(204);
}

const sessionsOf = async (userId: string) =>
  (await env.DB.prepare("select count(*) as n from sessions where user_id = ? and ended_at is null").bind(userId).first<{ n: number }>())!.n;

describe("the second step keeps the first step's guards", () => {
  it("a password reset landing while the code is checked wins: 401, no session, the mfa_token is dead", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    const code = await freshTotp(user);
    const db = interleavedDb(() => resetThroughEmail(user));
    await expect(verifyLoginSecondFactor(serviceDeps(db), step.mfa_token, { method: "totp", code })).rejects.toMatchObject({ code: "invalid_mfa_token", status: 401 });
    expect(await sessionsOf(user.id)).toBe(0);
    // The token was not used up by the refused batch, but it still names the old password.
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 401, "invalid_mfa_token");
    expect(await sessionsOf(user.id)).toBe(0);
  }, 30_000);

  it("a reset between the two steps makes the pending mfa_token useless", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    await resetThroughEmail(user);
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 401, "invalid_mfa_token");
    expect(await sessionsOf(user.id)).toBe(0);
    // The new password leads to a new second step, which works.
    const next = await loginToMfa({ email: user.email, password: NEW_PASSWORD });
    expect((await postJson("/auth/mfa/verify", { mfa_token: next.mfa_token, method: "totp", code: await freshTotp(user) })).status).toBe(200);
  }, 30_000);

  it("an account disabled while the code is checked gets no session", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    const code = await freshTotp(user);
    const before = (await env.DB.prepare("select count(*) as n from sessions where user_id = ?").bind(user.id).first<{ n: number }>())!.n;
    const db = interleavedDb(async () => {
      await env.DB.prepare("update users set is_active = 0 where id = ?").bind(user.id).run();
    });
    await expect(verifyLoginSecondFactor(serviceDeps(db), step.mfa_token, { method: "totp", code })).rejects.toMatchObject({ code: "invalid_mfa_token" });
    expect((await env.DB.prepare("select count(*) as n from sessions where user_id = ?").bind(user.id).first<{ n: number }>())!.n).toBe(before);
  });
});

describe("device tokens never skip the second factor", () => {
  it("a recognised device still gets mfa_required and no token; the device token comes with the tokens", async () => {
    const user = await createUser();
    const first = await expectJson<{ device_token: string }>(await postJson("/auth/login", { email: user.email, password: user.password }), 200);
    expect(first.device_token).toMatch(/^dt1\./);
    const enrolled = await enrollTotp({ ...user });

    const step = await expectJson<Record<string, unknown>>(await postJson("/auth/login", { email: user.email, password: user.password, device_token: first.device_token }), 200);
    expect(step).toMatchObject({ status: "mfa_required" });
    expect(step).not.toHaveProperty("access_token");
    expect(step).not.toHaveProperty("device_token");

    const signedIn = await expectJson<{ access_token: string; device_token: string }>(
      await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(enrolled) }),
      200,
    );
    expect(signedIn.device_token).toMatch(/^dt1\./);
    expect(claimsOf(signedIn.access_token)).toMatchObject({ acr: "aal2" });
  });
});

describe("API keys and assurance", () => {
  it("creating a key needs a fresh second factor when the caller has one", async () => {
    const user = await enrollTotp(await createUser({ roles: ["manager"] }));
    await expireStepUp(claimsOf(user.accessToken).sid as string);
    const refused = await expectProblem(await call(user.accessToken, "POST", "/api-keys", { name: "ci", scopes: ["profile:read"] }), 401, "step_up_required");
    expect(refused.required_assurance).toBe("aal2");
    const stepped = await expectJson<{ access_token: string }>(await call(user.accessToken, "POST", "/auth/mfa/step-up", { method: "totp", code: await freshTotp(user) }), 200);
    const key = await createKey(stepped.access_token, { scopes: ["profile:read"] });
    // Rotating mints a credential too.
    await expireStepUp(claimsOf(user.accessToken).sid as string);
    await expectProblem(await call(stepped.access_token, "POST", `/api-keys/${key.id}/rotate`, {}), 401, "step_up_required");
  });

  it("an API key is refused on every route that needs aal2, with session_required, and changes nothing", async () => {
    const admin = await createAdmin();
    const victim = await createUser();
    const key = await createKey(admin.accessToken, { scopes: ["users:delete", "users:read", "roles:write", "account:security"] });
    const refused = await expectProblem(await authedFetch(`/users/${victim.id}`, key.key, { method: "DELETE" }), 403, "session_required");
    expect(refused.detail).toMatch(/API key/);
    expect(await env.DB.prepare("select id from users where id = ?").bind(victim.id).first()).not.toBeNull();
    await expectProblem(await call(key.key, "POST", "/roles", { name: `via-key-${Date.now()}`, permissions: [] }), 403, "session_required");
    await expectProblem(await call(key.key, "POST", "/auth/mfa/totp"), 403, "session_required");
    await expectProblem(await call(key.key, "POST", "/auth/passkeys/registration/options"), 403, "session_required");
    await expectProblem(await call(key.key, "POST", "/auth/mfa/step-up", { method: "totp", code: "123456" }), 403, "session_required");
  });

  it("MFA_REQUIRED_PERMISSIONS covers a person's keys, not a service account's (which cannot enroll)", async () => {
    const policy = { MFA_REQUIRED_PERMISSIONS: "roles:*" };
    const get = (path: string, token: string) => callApp(`${API}${path}`, { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": randomIp() } }, { env: policy });
    const admin = await createAdmin();
    const personal = await createKey(admin.accessToken, { scopes: ["roles:read"] });
    await expectProblem(await get("/roles", personal.key), 403, "mfa_enrollment_required");
    await enrollTotp(admin);
    expect((await get("/roles", personal.key)).status).toBe(200);

    const account = await expectJson<{ id: string }>(await call(admin.accessToken, "POST", "/service-accounts", { name: `svc-mfa-${Date.now()}`, description: "ci", roles: ["admin"] }), 201);
    const serviceKey = await createKey(admin.accessToken, { owner_id: account.id, scopes: ["roles:read"] });
    expect((await get("/roles", serviceKey.key)).status).toBe(200);
  });
});
