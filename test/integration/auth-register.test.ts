import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callApp, expectProblem } from "../helpers/app-env";
import { API, authedFetch, login, postJson, randomIp, STRONG_PASSWORD, tokenFromMail, uniqueEmail, waitForMail } from "../helpers/auth";

const ACCEPTED = { status: "accepted", message: "If the address can receive mail, a message is on its way." };

function registration(email: string, password = STRONG_PASSWORD, extra: Record<string, unknown> = {}) {
  return { email, password, first_name: "Reg", last_name: "Ister", ...extra };
}

/** Sends a JSON text exactly as written (JSON.stringify would turn `__proto__` into a prototype). */
function postRaw(path: string, text: string): Promise<Response> {
  return SELF.fetch(`${API}${path}`, { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp() }, body: text });
}

async function usersWithEmail(email: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from users where email = ?").bind(email.toLowerCase()).first<{ n: number }>();
  return row!.n;
}

/** Registers and verifies through the mailed link, then returns login's status for `attempt`. */
async function registerVerifyAndLogin(email: string, password: string, attempt: string): Promise<number> {
  expect((await postJson("/auth/register", registration(email, password))).status).toBe(202);
  const [mail] = await waitForMail(email, "verify");
  expect((await postJson("/auth/verify-email", { token: tokenFromMail(mail!.text) })).status).toBe(204);
  return (await postJson("/auth/login", { email, password: attempt })).status;
}

describe("POST /auth/register: a new account", () => {
  it("answers 202 and creates an unverified, active account with the default role and a verification mail", async () => {
    const email = uniqueEmail("new");
    const response = await postJson("/auth/register", registration(email, STRONG_PASSWORD, { middle_name: " Q ", role_title: "Engineer" }));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual(ACCEPTED);
    // The account is created after the response (its timing must not depend on the address): the
    // verification mail is sent once it exists.
    await waitForMail(email, "verify");
    const user = await env.DB.prepare("select * from users where email = ?").bind(email).first<Record<string, unknown>>();
    expect(user).toMatchObject({ first_name: "Reg", middle_name: "Q", last_name: "Ister", role_title: "Engineer", is_active: 1, is_approved: 1, email_verified_at: null });
    expect(user!.password_hash).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const roles = await env.DB.prepare("select r.name from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = ?").bind(user!.id).all<{ name: string }>();
    expect(roles.results.map((row) => row.name)).toEqual(["user"]);
    const [mail] = await waitForMail(email, "verify");
    expect(mail!.text).toContain(`http://localhost/verify-email?token=${tokenFromMail(mail!.text)}`);
    // The token is stored hashed only.
    const stored = await env.DB.prepare("select count(*) as n from email_tokens where token_hash = ?").bind(tokenFromMail(mail!.text)).first<{ n: number }>();
    expect(stored?.n).toBe(0);
  });

  it("stores the normalized address", async () => {
    const email = uniqueEmail("norm");
    expect((await postJson("/auth/register", registration(`  ${email.toUpperCase()}\t`))).status).toBe(202);
    await waitForMail(email, "verify");
    expect(await usersWithEmail(email)).toBe(1);
  });

  it("refuses missing and malformed fields with 422 naming each", async () => {
    const body = await expectProblem(await postJson("/auth/register", { email: "not-an-email", password: STRONG_PASSWORD, first_name: "" }), 422, "validation_failed");
    expect(body.errors?.map((error) => error.path).sort()).toEqual(["body.email", "body.first_name", "body.last_name"]);
  });
});

describe("POST /auth/register: mass assignment", () => {
  const smuggled: Array<[string, string]> = [
    ["role", '"admin"'],
    ["roles", '["admin"]'],
    ["is_active", "true"],
    ["is_approved", "true"],
    ["email_verified", "true"],
    ["email_verified_at", "1"],
    ["id", '"00000000-0000-7000-8000-000000000000"'],
    ["password_hash", '"$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"'],
    ["__proto__", '{"is_approved": true, "roles": ["admin"]}'],
    ["constructor", '{"prototype": {"is_admin": true}}'],
    ["prototype", '{"roles": ["admin"]}'],
  ];
  for (const [field, value] of smuggled) {
    it(`refuses "${field}" with 422 naming it, and creates nothing`, async () => {
      const email = uniqueEmail("smuggle");
      const text = `{"email": ${JSON.stringify(email)}, "password": ${JSON.stringify(STRONG_PASSWORD)}, "first_name": "A", "last_name": "B", ${JSON.stringify(field)}: ${value}}`;
      const body = await expectProblem(await postRaw("/auth/register", text), 422, "validation_failed");
      expect(JSON.stringify(body.errors)).toContain(field);
      expect(await usersWithEmail(email)).toBe(0);
    });
  }

  it("leaves Object.prototype untouched after a __proto__ body", async () => {
    await postRaw("/auth/register", `{"__proto__": {"polluted": "yes"}, "email": "x@example.com"}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const me = await authedFetch("/users/me", "x".repeat(20));
    expect(me.status).toBe(401);
  });
});

describe("POST /auth/register: password policy", () => {
  const weak: Array<[string, (email: string) => string]> = [
    ["too short", () => "abc123!"],
    ["common", () => "password1234"],
    ["common in another case", () => "PASSWORD1234"],
    ["equal to the email", (email) => email],
    ["equal to the email in another case", (email) => email.toUpperCase()],
    ["over 1024 bytes (600 two-byte characters)", () => "é".repeat(600)],
    ["over 1024 characters", () => "a".repeat(1025)],
    ["an unpaired surrogate", () => "valid-looking-\ud800-password"],
  ];
  for (const [name, password] of weak) {
    it(`refuses a password that is ${name} with 422 naming body.password`, async () => {
      const email = uniqueEmail("weak");
      const body = await expectProblem(await postJson("/auth/register", registration(email, password(email))), 422, "validation_failed");
      expect(body.errors?.map((error) => error.path)).toEqual(["body.password"]);
      expect(await usersWithEmail(email)).toBe(0);
    });
  }

  it("accepts exactly 8 characters, 64 characters and 1024 bytes", async () => {
    for (const password of ["zq8#Lk2m", "x".repeat(60) + "9Qz!", "ü".repeat(512)]) {
      const email = uniqueEmail("edge");
      expect((await postJson("/auth/register", registration(email, password))).status, password).toBe(202);
      await waitForMail(email, "verify");
      expect(await usersWithEmail(email)).toBe(1);
    }
  });

  it("uses a 64-character password exactly as typed", async () => {
    const password = "The quick brown fox jumps over the lazy dog; 64 chars exactly!!!";
    expect(password).toHaveLength(64);
    const email = uniqueEmail("long");
    expect(await registerVerifyAndLogin(email, password, password)).toBe(200);
    expect((await postJson("/auth/login", { email, password: password.slice(0, 63) })).status).toBe(401);
  });

  it("uses a Unicode password with surrounding spaces exactly as typed: no trimming, folding or normalization", async () => {
    const password = "  Pässwörd ünïcødé 🔐 密码  ";
    const email = uniqueEmail("unicode");
    expect(await registerVerifyAndLogin(email, password, password)).toBe(200);
    for (const variant of [password.trim(), password.toLowerCase(), password.normalize("NFD"), ` ${password}`]) {
      expect((await postJson("/auth/login", { email, password: variant })).status, JSON.stringify(variant)).toBe(401);
    }
  });
});

describe("POST /auth/register: an address that is taken", () => {
  it("answers the same 202 for case, whitespace and full-width variants, keeps one row, and mails the owner", async () => {
    const email = uniqueEmail("dup");
    const fullWidth = email.replace(/[!-~]/g, (char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0));
    const first = await postJson("/auth/register", registration(email));
    const texts = [await first.text()];
    for (const variant of [email.toUpperCase(), `  ${email}  `, fullWidth]) {
      const response = await postJson("/auth/register", registration(variant, "another strong passphrase 9"));
      expect(response.status).toBe(202);
      texts.push(await response.text());
    }
    expect(new Set(texts).size).toBe(1);
    const attempts = await waitForMail(email, "attempt", 2);
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(await usersWithEmail(email)).toBe(1);
    // The original password still works; the attempts changed nothing.
    const [mail] = await waitForMail(email, "verify");
    expect((await postJson("/auth/verify-email", { token: tokenFromMail(mail!.text) })).status).toBe(204);
    await login(email, STRONG_PASSWORD);
    expect((await postJson("/auth/login", { email, password: "another strong passphrase 9" })).status).toBe(401);
  });

  it("answers every one of five concurrent registrations of one address with 202 and creates one row", async () => {
    const email = uniqueEmail("race");
    const variants = [email, email.toUpperCase(), ` ${email}`, `${email} `, email.replace("@", "＠")];
    const responses = await Promise.all(variants.map((variant) => postJson("/auth/register", registration(variant))));
    expect(responses.map((response) => response.status)).toEqual([202, 202, 202, 202, 202]);
    const texts = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(texts).size).toBe(1);
    // The account is created after the response (issue 9): wait for all five outcomes, one
    // verification mail and four "someone tried to register" notices.
    await waitForMail(email, "verify");
    await waitForMail(email, "attempt", 3);
    expect(await usersWithEmail(email)).toBe(1);
    const roles = await env.DB.prepare("select count(*) as n from user_roles ur join users u on u.id = ur.user_id where u.email = ?").bind(email).first<{ n: number }>();
    expect(roles?.n).toBe(1);
  });

  it("gives a new account is_approved = false when REQUIRE_APPROVAL is on", async () => {
    const email = uniqueEmail("approval");
    const response = await callApp(
      `${API}/auth/register`,
      { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp() }, body: JSON.stringify(registration(email)) },
      { env: { REQUIRE_APPROVAL: "true" } },
    );
    expect(response.status).toBe(202);
    const row = await env.DB.prepare("select is_approved from users where email = ?").bind(email).first<{ is_approved: number }>();
    expect(row?.is_approved).toBe(0);
  });
});
