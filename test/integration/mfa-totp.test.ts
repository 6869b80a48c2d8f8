import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { totpCode } from "../../src/modules/mfa/totp";
import { createUser, postJson, tokenFromMail, waitForMail } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { claimsOf, enrollTotp, expireStepUp, freshTotp, loginToMfa } from "../helpers/mfa";
import { auditEventsFor, call, expectJson } from "../helpers/rbac";

describe("TOTP enrollment", () => {
  it("returns a 160-bit secret and otpauth URI once, stores it sealed, and activates only after a valid code", async () => {
    const user = await createUser();
    const started = await expectJson<{ secret: string; otpauth_uri: string }>(await call(user.accessToken, "POST", "/auth/mfa/totp"), 201);
    expect(started.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(started.otpauth_uri).toContain(`secret=${started.secret}`);
    const row = await env.DB.prepare("select secret_ciphertext, confirmed_at from totp_factors where user_id = ?").bind(user.id).first<{ secret_ciphertext: string; confirmed_at: number | null }>();
    expect(row!.confirmed_at).toBeNull();
    expect(row!.secret_ciphertext).toMatch(/^test-mfa-2\./);
    expect(row!.secret_ciphertext).not.toContain(started.secret);

    // Pending is not a factor: the password alone still signs in.
    expect((await postJson("/auth/login", { email: user.email, password: user.password }).then((r) => r.json())) as object).toHaveProperty("access_token");
    expect(await expectJson(await call(user.accessToken, "GET", "/auth/mfa"), 200)).toMatchObject({ totp: { enabled: false, pending: true }, methods: [] });

    await expectProblem(await call(user.accessToken, "POST", "/auth/mfa/totp/confirm", { code: "000000" }), 400, "invalid_mfa_code");
    const { decodeBase32IgnorePadding } = await import("@oslojs/encoding");
    const code = totpCode(decodeBase32IgnorePadding(started.secret), Date.now());
    const confirmed = await expectJson<{ recovery_codes: string[] }>(await call(user.accessToken, "POST", "/auth/mfa/totp/confirm", { code }), 200);
    expect(confirmed.recovery_codes).toHaveLength(10);
    const stored = await env.DB.prepare("select code_hash from recovery_codes where user_id = ?").bind(user.id).all<{ code_hash: string }>();
    expect(stored.results).toHaveLength(10);
    for (const { code_hash } of stored.results) expect(confirmed.recovery_codes.join()).not.toContain(code_hash.slice(0, 10));
    expect(await expectJson(await call(user.accessToken, "GET", "/auth/mfa"), 200)).toMatchObject({ totp: { enabled: true, pending: false }, recovery_codes_remaining: 10, methods: ["totp", "recovery_code"] });
    expect((await auditEventsFor(user.id)).map((event) => event.action)).toContain("mfa.totp_enrolled");

    // An active app must be removed before another is set up; the confirm step cannot be replayed.
    await expectProblem(await call(user.accessToken, "POST", "/auth/mfa/totp"), 409, "conflict");
    await expectProblem(await call(user.accessToken, "POST", "/auth/mfa/totp/confirm", { code }), 409, "conflict");
  });
});

describe("login with a second factor", () => {
  it("the right password answers mfa_required with no token; the code completes it at aal2", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    expect(step).toMatchObject({ status: "mfa_required", methods: ["totp", "recovery_code"], expires_in: 300 });
    expect(step.mfa_token).toMatch(/^mfa_/);
    expect(step).not.toHaveProperty("access_token");
    expect(step).not.toHaveProperty("refresh_token");

    const code = await freshTotp(user);
    const before = Math.floor(Date.now() / 1000);
    const signedIn = await expectJson<{ access_token: string; refresh_token: string }>(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code }), 200);
    const claims = claimsOf(signedIn.access_token);
    expect(claims).toMatchObject({ acr: "aal2", amr: ["pwd", "otp", "mfa"] });
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
    const session = await env.DB.prepare("select acr, amr from sessions where id = ?").bind(claims.sid).first();
    expect(session).toEqual({ acr: "aal2", amr: '["pwd","otp","mfa"]' });

    // The mfa_token is single-use; the code's step is used up (replay) even with a new token.
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code }), 401, "invalid_mfa_token");
    const again = await loginToMfa(user);
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: again.mfa_token, method: "totp", code }), 401, "invalid_mfa_code");
    expect((await auditEventsFor(user.id)).some((event) => event.action === "mfa.verify_failed" && event.changes?.context === "login")).toBe(true);
  });

  it("accounts without a factor sign in as before (aal1, amr pwd); wrong passwords stay the same 401", async () => {
    const plain = await createUser();
    const tokens = await expectJson<{ access_token: string }>(await postJson("/auth/login", { email: plain.email, password: plain.password }), 200);
    expect(claimsOf(tokens.access_token)).toMatchObject({ acr: "aal1", amr: ["pwd"] });

    const protectedUser = await enrollTotp(await createUser());
    const wrong = await expectProblem(await postJson("/auth/login", { email: protectedUser.email, password: "wrong password 123" }), 401, "invalid_credentials");
    const unknown = await expectProblem(await postJson("/auth/login", { email: "nobody-mfa@example.com", password: "wrong password 123" }), 401, "invalid_credentials");
    expect(wrong.detail).toBe(unknown.detail);
  });

  it("refuses an expired mfa_token, a made-up one, and a disabled account at the second step", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    await env.DB.prepare("update mfa_challenges set expires_at = ? where kind = 'login' and user_id = ?").bind(Date.now() - 1, user.id).run();
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 401, "invalid_mfa_token");
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: "mfa_made_up", method: "totp", code: "123456" }), 401, "invalid_mfa_token");

    const next = await loginToMfa(user);
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(user.id).run();
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: next.mfa_token, method: "totp", code: await freshTotp(user) }), 403, "account_disabled");
  });

  it("validates the proof's shape (422), never a 500", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp" }), 422, "validation_failed");
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "sms", code: "1" }), 422, "validation_failed");
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "webauthn", code: "1" }), 422, "validation_failed");
  });

  it("a password reset never signs in past the second factor", async () => {
    const user = await enrollTotp(await createUser());
    await postJson("/auth/password/forgot", { email: user.email });
    const [mail] = await waitForMail(user.email, "reset");
    const reset = await postJson("/auth/password/reset", { token: tokenFromMail(mail!.text), new_password: "a brand new passphrase 77" });
    expect(reset.status).toBe(204);
    expect(await reset.text()).toBe("");
    const step = await loginToMfa({ email: user.email, password: "a brand new passphrase 77" });
    expect(step.status).toBe("mfa_required");
  });
});

describe("recovery codes (lost device)", () => {
  it("a recovery code signs in once, says so, emails the owner, and is audited", async () => {
    const user = await enrollTotp(await createUser());
    const code = user.recoveryCodes[3]!;
    const step = await loginToMfa(user);
    const signedIn = await expectJson<{ access_token: string; recovery_code_used: boolean; recovery_codes_remaining: number }>(
      await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "recovery_code", code: code.toUpperCase().replace("-", " ") }),
      200,
    );
    expect(signedIn).toMatchObject({ recovery_code_used: true, recovery_codes_remaining: 9 });
    expect(claimsOf(signedIn.access_token)).toMatchObject({ acr: "aal2", amr: ["pwd", "otp", "mfa"] });
    const again = await loginToMfa(user);
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: again.mfa_token, method: "recovery_code", code }), 401, "invalid_mfa_code");
    expect((await auditEventsFor(user.id)).find((event) => event.action === "mfa.recovery_code_used")?.changes).toEqual({ remaining: 9 });
    const mails = await env.DB.prepare("select subject from captured_mails where to_address = ?").bind(user.email).all<{ subject: string }>();
    expect(mails.results.map((mail) => mail.subject)).toContain("A Edge Auth recovery code was used");
  });

  it("regenerating replaces every code; it needs a fresh second factor (step-up) when the last one is old", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    const session = await expectJson<{ access_token: string }>(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 200);
    const sessionId = claimsOf(session.access_token).sid as string;

    // Signed in with the factor moments ago: fresh enough.
    const first = await expectJson<{ recovery_codes: string[] }>(await call(session.access_token, "POST", "/auth/mfa/recovery-codes"), 200);
    expect(first.recovery_codes).toHaveLength(10);
    expect(first.recovery_codes).not.toContain(user.recoveryCodes[0]);

    await expireStepUp(sessionId);
    const refused = await call(session.access_token, "POST", "/auth/mfa/recovery-codes");
    expect(refused.headers.get("WWW-Authenticate")).toMatch(/insufficient_user_authentication.*acr_values="aal2"/);
    await expectProblem(refused, 401, "step_up_required");

    const stepped = await expectJson<{ access_token: string; acr: string; step_up_expires_in: number }>(
      await call(session.access_token, "POST", "/auth/mfa/step-up", { method: "totp", code: await freshTotp(user) }),
      200,
    );
    expect(stepped).toMatchObject({ acr: "aal2", step_up_expires_in: 600 });
    const second = await expectJson<{ recovery_codes: string[] }>(await call(stepped.access_token, "POST", "/auth/mfa/recovery-codes"), 200);

    const login = await loginToMfa(user);
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: login.mfa_token, method: "recovery_code", code: first.recovery_codes[0] }), 401, "invalid_mfa_code");
    const ok = await postJson("/auth/mfa/verify", { mfa_token: login.mfa_token, method: "recovery_code", code: second.recovery_codes[0] });
    expect(ok.status).toBe(200);
    expect((await auditEventsFor(user.id)).map((event) => event.action)).toEqual(expect.arrayContaining(["mfa.recovery_codes_regenerated", "mfa.step_up"]));
  });
});

describe("removing the authenticator app", () => {
  it("needs a fresh factor; afterwards the password alone signs in again and the codes are gone", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    const session = await expectJson<{ access_token: string }>(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 200);
    await expireStepUp(claimsOf(session.access_token).sid as string);
    await expectProblem(await call(session.access_token, "DELETE", "/auth/mfa/totp"), 401, "step_up_required");
    // A wrong step-up code is refused and audited.
    await expectProblem(await call(session.access_token, "POST", "/auth/mfa/step-up", { method: "totp", code: totpCode(user.secret, Date.now() + 600_000) }), 401, "invalid_mfa_code");
    await call(session.access_token, "POST", "/auth/mfa/step-up", { method: "totp", code: await freshTotp(user) });
    const removed = await call(session.access_token, "DELETE", "/auth/mfa/totp");
    expect(removed.status).toBe(204);
    expect(await expectJson(await call(session.access_token, "GET", "/auth/mfa"), 200)).toMatchObject({ totp: { enabled: false }, recovery_codes_remaining: 0, methods: [] });
    const login = await expectJson(await postJson("/auth/login", { email: user.email, password: user.password }), 200);
    expect(login).toHaveProperty("access_token");
    expect((await auditEventsFor(user.id)).map((event) => event.action)).toContain("mfa.totp_removed");
    await expectProblem(await call(session.access_token, "DELETE", "/auth/mfa/totp"), 404, "not_found");
    await expectProblem(await call(session.access_token, "POST", "/auth/mfa/recovery-codes"), 409, "conflict");
  });
});

describe("encryption key rotation", () => {
  it("a secret sealed under an older key (second in MFA_ENCRYPTION_KEYS) still verifies and is re-sealed under the first", async () => {
    const user = await enrollTotp(await createUser());
    const keys = JSON.parse(env.MFA_ENCRYPTION_KEYS as string) as { kid: string; key: string }[];
    const { seal } = await import("../../src/lib/secret-box");
    await env.DB.prepare("update totp_factors set secret_ciphertext = ? where user_id = ?").bind(await seal([keys[1]!], user.secret, user.id), user.id).run();
    const step = await loginToMfa(user);
    expect((await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) })).status).toBe(200);
    const row = await env.DB.prepare("select secret_ciphertext from totp_factors where user_id = ?").bind(user.id).first<{ secret_ciphertext: string }>();
    expect(row!.secret_ciphertext.startsWith(`${keys[0]!.kid}.`)).toBe(true);
  });
});
