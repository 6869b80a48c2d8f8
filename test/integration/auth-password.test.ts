import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/tokens";
import { callApp, expectProblem } from "../helpers/app-env";
import { API, authedFetch, createUser, login, postJson, randomIp, tokenFromMail, uniqueEmail, waitForMail, type TestUser } from "../helpers/auth";

const NEW_PASSWORD = "a completely new passphrase 77";
const FORGOT_ACCEPTED = { status: "accepted", message: "If the address has an account, a reset link is on its way." };

const sessionOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

/** POST through a fresh app and wait for its background work, so "no mail was sent" is a fact. */
function postAndSettle(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return callApp(`${API}${path}`, { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp(), ...headers }, body: JSON.stringify(body) });
}

async function resetToken(user: { email: string }, previous = 0): Promise<string> {
  expect((await postJson("/auth/password/forgot", { email: user.email })).status).toBe(202);
  const [mail] = await waitForMail(user.email, "reset", previous);
  return tokenFromMail(mail!.text);
}

async function passwordHash(userId: string): Promise<string> {
  return (await env.DB.prepare("select password_hash from users where id = ?").bind(userId).first<{ password_hash: string }>())!.password_hash;
}

async function mailCount(email: string, subjectPart: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from captured_mails where to_address = ? and subject like ?").bind(email, `%${subjectPart}%`).first<{ n: number }>();
  return row!.n;
}

async function expectRevoked(accessToken: string): Promise<void> {
  await expectProblem(await authedFetch("/users/me", accessToken), 401, "unauthorized");
}

function change(user: TestUser, body: Record<string, unknown>, client: { ip?: string; userAgent?: string } = {}): Promise<Response> {
  return postJson("/auth/password/change", body, { token: user.accessToken, ip: client.ip, headers: client.userAgent ? { "User-Agent": client.userAgent } : {} });
}

describe("POST /auth/password/forgot", () => {
  it("answers 202 with one body for existing, unknown and disabled addresses, and mails only the existing active account", async () => {
    const user = await createUser();
    const disabled = await createUser();
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(disabled.id).run();
    const ghost = uniqueEmail("ghost");
    const texts = new Set<string>();
    for (const email of [user.email, ghost, disabled.email, user.email.toUpperCase()]) {
      const response = await postAndSettle("/auth/password/forgot", { email });
      expect(response.status).toBe(202);
      texts.add(await response.text());
    }
    expect([...texts]).toEqual([JSON.stringify(FORGOT_ACCEPTED)]);
    expect(await mailCount(user.email, "Reset your")).toBe(2);
    expect(await mailCount(ghost, "")).toBe(0);
    expect(await mailCount(disabled.email, "Reset your")).toBe(0);
  });

  it("supersedes an earlier reset token with a newer one", async () => {
    const user = await createUser();
    const first = await resetToken(user);
    const second = await resetToken(user, 1);
    expect(second).not.toBe(first);
    await expectProblem(await postJson("/auth/password/reset", { token: first, new_password: NEW_PASSWORD }), 400, "invalid_token");
    expect((await postJson("/auth/password/reset", { token: second, new_password: NEW_PASSWORD })).status).toBe(204);
  });

  it("builds the link from PUBLIC_BASE_URL even when Host and X-Forwarded-Host say evil.example", async () => {
    const user = await createUser();
    const response = await callApp("http://evil.example/api/v1/auth/password/forgot", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp(), "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", Forwarded: "host=evil.example" },
      body: JSON.stringify({ email: user.email }),
    });
    expect(response.status).toBe(202);
    const [mail] = await waitForMail(user.email, "reset");
    expect(mail!.text).toMatch(/http:\/\/localhost\/reset-password\?token=[A-Za-z0-9_-]{43}/);
    expect(mail!.text).not.toContain("evil.example");
  });
});

describe("POST /auth/password/reset", () => {
  it("sets the new password, ends every session, records the event and mails a notice", async () => {
    const user = await createUser();
    const second = await login(user.email, user.password);
    const token = await resetToken(user);
    const response = await postJson("/auth/password/reset", { token, new_password: NEW_PASSWORD }, { ip: "203.0.113.41", headers: { "User-Agent": "Resetter/1.0" } });
    expect(response.status).toBe(204);
    await expectRevoked(user.accessToken);
    await expectRevoked(second.access_token);
    await expectProblem(await postJson("/auth/refresh", { refresh_token: second.refresh_token }), 401, "invalid_refresh_token");
    const live = await env.DB.prepare("select count(*) as n from sessions where user_id = ? and ended_at is null").bind(user.id).first<{ n: number }>();
    expect(live?.n).toBe(0);
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(401);
    await login(user.email, NEW_PASSWORD);

    const event = await env.DB.prepare("select * from audit_logs where action = 'user.password_reset' and target_id = ?").bind(user.id).first<Record<string, unknown>>();
    expect(event).toMatchObject({ actor_user_id: user.id, actor_ip: "203.0.113.41", actor_user_agent: "Resetter/1.0", target_type: "user" });
    expect(JSON.parse(event!.changes as string)).toMatchObject({ reason: "password_reset", sessions_ended: 2 });
    await waitForMail(user.email, "changed");
  });

  it("is single use", async () => {
    const user = await createUser();
    const token = await resetToken(user);
    expect((await postJson("/auth/password/reset", { token, new_password: NEW_PASSWORD })).status).toBe(204);
    await expectProblem(await postJson("/auth/password/reset", { token, new_password: "yet another passphrase 88" }), 400, "invalid_token");
    await login(user.email, NEW_PASSWORD);
  });

  it("refuses an expired token and changes nothing", async () => {
    const user = await createUser();
    const token = await resetToken(user);
    const before = await passwordHash(user.id);
    await env.DB.prepare("update email_tokens set expires_at = ? where token_hash = ?").bind(Date.now() - 1_000, await sha256Hex(token)).run();
    await expectProblem(await postJson("/auth/password/reset", { token, new_password: NEW_PASSWORD }), 400, "invalid_token");
    expect(await passwordHash(user.id)).toBe(before);
    expect((await authedFetch("/users/me", user.accessToken)).status).toBe(200);
  });

  it("refuses garbage and verification tokens with the same 400", async () => {
    await expectProblem(await postJson("/auth/password/reset", { token: "garbage", new_password: NEW_PASSWORD }), 400, "invalid_token");
    await expectProblem(await postJson("/auth/password/reset", { token: "C".repeat(43), new_password: NEW_PASSWORD }), 400, "invalid_token");
    const email = uniqueEmail("verifytoken");
    await postJson("/auth/register", { email, password: "correct horse battery staple 42", first_name: "A", last_name: "B" });
    const [mail] = await waitForMail(email, "verify");
    await expectProblem(await postJson("/auth/password/reset", { token: tokenFromMail(mail!.text), new_password: NEW_PASSWORD }), 400, "invalid_token");
  });

  it("refuses a weak new password with 422 naming body.new_password, without using up the token", async () => {
    const user = await createUser();
    const token = await resetToken(user);
    for (const weak of ["short", "password1234", user.email]) {
      const body = await expectProblem(await postJson("/auth/password/reset", { token, new_password: weak }), 422, "validation_failed");
      // A password can break several rules at once (e.g. short and common): one error each, all on the field.
      expect([...new Set(body.errors?.map((error) => error.path))]).toEqual(["body.new_password"]);
    }
    expect((await authedFetch("/users/me", user.accessToken)).status).toBe(200);
    // The emailed link still works once the user picks an acceptable password.
    expect((await postJson("/auth/password/reset", { token, new_password: NEW_PASSWORD })).status).toBe(204);
  });

  it("lets only one of concurrent resets with one token succeed", async () => {
    const user = await createUser();
    const token = await resetToken(user);
    const responses = await Promise.all(["first passphrase 111", "second passphrase 222", "third passphrase 333"].map((new_password) => postJson("/auth/password/reset", { token, new_password })));
    expect(responses.map((response) => response.status).sort()).toEqual([204, 400, 400]);
  });
});

describe("POST /auth/password/change", () => {
  it("changes the password, keeps the current session, ends the others, records and mails", async () => {
    const user = await createUser();
    const other = await login(user.email, user.password);
    const response = await change(user, { current_password: user.password, new_password: NEW_PASSWORD }, { ip: "203.0.113.51", userAgent: "Changer/1.0" });
    expect(response.status).toBe(204);
    expect((await authedFetch("/users/me", user.accessToken)).status).toBe(200);
    expect((await postJson("/auth/refresh", { refresh_token: user.refreshToken })).status).toBe(200);
    await expectRevoked(other.access_token);
    await expectProblem(await postJson("/auth/refresh", { refresh_token: other.refresh_token }), 401, "invalid_refresh_token");
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(401);
    await login(user.email, NEW_PASSWORD);

    const event = await env.DB.prepare("select * from audit_logs where action = 'user.password_changed' and target_id = ?").bind(user.id).first<Record<string, unknown>>();
    expect(event).toMatchObject({ actor_user_id: user.id, session_id: sessionOf(user.accessToken), actor_ip: "203.0.113.51", actor_user_agent: "Changer/1.0" });
    expect(JSON.parse(event!.changes as string)).toMatchObject({ reason: "password_changed", sessions_ended: 1 });
    const ended = await env.DB.prepare("select end_reason from sessions where id = ?").bind(sessionOf(other.access_token)).first<{ end_reason: string }>();
    expect(ended?.end_reason).toBe("password_changed");
    await waitForMail(user.email, "changed");
  });

  it("refuses a wrong current password with 403 and changes nothing", async () => {
    const user = await createUser();
    const other = await login(user.email, user.password);
    const before = await passwordHash(user.id);
    await expectProblem(await change(user, { current_password: "not my password at all", new_password: NEW_PASSWORD }), 403, "current_password_incorrect");
    expect(await passwordHash(user.id)).toBe(before);
    expect((await authedFetch("/users/me", other.access_token)).status).toBe(200);
    await login(user.email, user.password);
  });

  it("refuses a weak new password with 422 naming body.new_password and changes nothing", async () => {
    const user = await createUser();
    const before = await passwordHash(user.id);
    for (const weak of ["short", "password1234", user.email.toUpperCase(), "é".repeat(600)]) {
      const body = await expectProblem(await change(user, { current_password: user.password, new_password: weak }), 422, "validation_failed");
      // A password can break several rules at once (e.g. short and common): one error each, all on the field.
      expect([...new Set(body.errors?.map((error) => error.path))]).toEqual(["body.new_password"]);
    }
    expect(await passwordHash(user.id)).toBe(before);
  });

  it("refuses extra fields and a missing bearer token", async () => {
    const user = await createUser();
    await expectProblem(await change(user, { current_password: user.password, new_password: NEW_PASSWORD, user_id: "someone-else" }), 422, "validation_failed");
    const anonymous = await postJson("/auth/password/change", { current_password: user.password, new_password: NEW_PASSWORD });
    expect(anonymous.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
    await expectProblem(anonymous, 401, "unauthorized");
  });
});
