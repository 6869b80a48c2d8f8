import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../../src/lib/password";
import { callApp, expectProblem } from "../helpers/app-env";
import { API, authedFetch, createUser, postJson, STRONG_PASSWORD, uniqueEmail } from "../helpers/auth";

const WRONG_PASSWORD = "definitely not the password";

function loginAs(email: string, password: string, client: { ip?: string; userAgent?: string } = {}): Promise<Response> {
  return postJson("/auth/login", { email, password }, { ip: client.ip, headers: client.userAgent ? { "User-Agent": client.userAgent } : {} });
}

/** Login through a fresh app with other settings (e.g. REQUIRE_APPROVAL). */
function loginWithEnv(email: string, password: string, settings: Record<string, string>): Promise<Response> {
  return callApp(
    `${API}/auth/login`,
    { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.10" }, body: JSON.stringify({ email, password }) },
    { env: settings },
  );
}

/** The parts of a failed login a client can observe, minus the per-request identifiers. */
async function observable(response: Response) {
  const text = await response.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  const requestId = response.headers.get("X-Request-Id")!;
  const headers = [...response.headers.entries()].filter(([name]) => name !== "x-request-id" && !name.startsWith("ratelimit")).sort(([a], [b]) => a.localeCompare(b));
  return {
    status: response.status,
    // Remove the request id wherever it appears; the rest must match byte for byte.
    body: text.replaceAll(requestId, "<request-id>"),
    headerNames: [...response.headers.keys()].sort(),
    headers,
    instanceIsRequestId: body.instance === requestId && body.request_id === requestId,
  };
}

async function auditRows(action: string, targetId: string | null) {
  const query = targetId === null ? "select * from audit_logs where action = ? and target_id is null" : "select * from audit_logs where action = ? and target_id = ?";
  const statement = targetId === null ? env.DB.prepare(query).bind(action) : env.DB.prepare(query).bind(action, targetId);
  return (await statement.all<Record<string, unknown>>()).results;
}

describe("POST /auth/login: success", () => {
  it("returns the documented token pair, starts a session and records the event", async () => {
    const user = await createUser();
    const response = await loginAs(`  ${user.email.toUpperCase()} `, user.password, { ip: "203.0.113.21", userAgent: "LoginTest/1.0" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const pair = await response.json<Record<string, unknown>>();
    expect(Object.keys(pair).sort()).toEqual(["access_token", "device_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type"]);
    expect(pair).toMatchObject({ token_type: "Bearer", expires_in: 900, refresh_expires_in: 604_800 });
    const claims = decodeJwt(pair.access_token as string);
    expect(claims.sub).toBe(user.id);
    const session = await env.DB.prepare("select * from sessions where id = ?").bind(claims.sid).first<Record<string, unknown>>();
    expect(session).toMatchObject({ user_id: user.id, user_agent: "LoginTest/1.0", ended_at: null });
    const events = (await auditRows("user.login_succeeded", user.id)).filter((row) => row.session_id === claims.sid);
    expect(events).toEqual([expect.objectContaining({ actor_user_id: user.id, actor_ip: "203.0.113.21", actor_user_agent: "LoginTest/1.0", target_type: "user" })]);
  });

  it("accepts full-width and mixed-case spellings of the address", async () => {
    const user = await createUser();
    const fullWidth = user.email.replace(/[!-~]/g, (char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0));
    expect((await loginAs(fullWidth, user.password)).status).toBe(200);
  });
});

describe("POST /auth/login: failures reveal nothing about the account", () => {
  it("answers unknown email and wrong password with byte-identical problems and the same headers", async () => {
    const user = await createUser();
    const unknown = await observable(await loginAs(uniqueEmail("ghost"), WRONG_PASSWORD));
    const wrong = await observable(await loginAs(user.email, WRONG_PASSWORD));
    expect(unknown.status).toBe(401);
    expect(wrong).toEqual(unknown);
    expect(unknown.instanceIsRequestId).toBe(true);
    expect(JSON.parse(unknown.body)).toMatchObject({ code: "invalid_credentials", detail: "The email or password is incorrect." });
    expect(unknown.headerNames).toContain("content-type");
    expect(unknown.headers).toContainEqual(["content-type", "application/problem+json"]);
  });

  it("answers wrong passwords for unverified, disabled and unapproved accounts exactly like an unknown email", async () => {
    const unverified = uniqueEmail("unverified");
    expect((await postJson("/auth/register", { email: unverified, password: STRONG_PASSWORD, first_name: "A", last_name: "B" })).status).toBe(202);
    const disabled = await createUser();
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(disabled.id).run();
    const baseline = await observable(await loginAs(uniqueEmail("ghost"), WRONG_PASSWORD));
    expect(await observable(await loginAs(unverified, WRONG_PASSWORD))).toEqual(baseline);
    expect(await observable(await loginAs(disabled.email, WRONG_PASSWORD))).toEqual(baseline);
  });

  it("records failures with the target user (when there is one), IP and user agent, and starts no session", async () => {
    const user = await createUser();
    const before = await env.DB.prepare("select count(*) as n from sessions where user_id = ?").bind(user.id).first<{ n: number }>();
    expect((await loginAs(user.email, WRONG_PASSWORD, { ip: "203.0.113.31", userAgent: "Guesser/1.0" })).status).toBe(401);
    const after = await env.DB.prepare("select count(*) as n from sessions where user_id = ?").bind(user.id).first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
    const [event] = await auditRows("user.login_failed", user.id);
    expect(event).toMatchObject({ actor_user_id: null, actor_ip: "203.0.113.31", actor_user_agent: "Guesser/1.0", target_type: "user" });
    expect(JSON.parse(event!.changes as string)).toEqual({ reason: "wrong_password" });

    expect((await loginAs(uniqueEmail("ghost"), WRONG_PASSWORD, { ip: "203.0.113.32", userAgent: "Guesser/2.0" })).status).toBe(401);
    const unknownEvents = (await auditRows("user.login_failed", null)).filter((row) => row.actor_ip === "203.0.113.32");
    expect(unknownEvents).toHaveLength(1);
    expect(JSON.parse(unknownEvents[0]!.changes as string)).toEqual({ reason: "unknown_email" });
    // The attempted address is not written to the audit log for unknown accounts.
    expect(JSON.stringify(unknownEvents[0])).not.toContain("ghost-");
  });

  it("refuses malformed bodies with 422 before any lookup", async () => {
    const body = await expectProblem(await postJson("/auth/login", { email: "nope", password: "" }), 422, "validation_failed");
    expect(body.errors?.map((error) => error.path).sort()).toEqual(["body.email", "body.password"]);
    await expectProblem(await postJson("/auth/login", { email: uniqueEmail(), password: "x", remember_me: true }), 422, "validation_failed");
  });
});

describe("POST /auth/login: account state (403 only after the right password)", () => {
  it("a disabled account", async () => {
    const user = await createUser();
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(user.id).run();
    const body = await expectProblem(await loginAs(user.email, user.password), 403, "account_disabled");
    expect(body.detail).toBe("This account is disabled.");
  });

  it("an unverified account, unless REQUIRE_EMAIL_VERIFICATION is off", async () => {
    const email = uniqueEmail("unverified");
    await postJson("/auth/register", { email, password: STRONG_PASSWORD, first_name: "A", last_name: "B" });
    await expectProblem(await loginAs(email, STRONG_PASSWORD), 403, "email_not_verified");
    expect((await loginWithEnv(email, STRONG_PASSWORD, { REQUIRE_EMAIL_VERIFICATION: "false" })).status).toBe(200);
  });

  it("an unapproved account when REQUIRE_APPROVAL is on; approved ones and the default setting pass", async () => {
    const user = await createUser();
    await env.DB.prepare("update users set is_approved = 0 where id = ?").bind(user.id).run();
    await expectProblem(await loginWithEnv(user.email, user.password, { REQUIRE_APPROVAL: "true" }), 403, "account_not_approved");
    expect((await loginWithEnv(user.email, WRONG_PASSWORD, { REQUIRE_APPROVAL: "true" })).status).toBe(401);
    // REQUIRE_APPROVAL defaults to false: the flag is not consulted.
    expect((await loginAs(user.email, user.password)).status).toBe(200);
    await env.DB.prepare("update users set is_approved = 1 where id = ?").bind(user.id).run();
    expect((await loginWithEnv(user.email, user.password, { REQUIRE_APPROVAL: "true" })).status).toBe(200);
  });
});

describe("POST /auth/login: rehashing", () => {
  it("upgrades a hash made with weaker parameters to the current ones on a successful login", async () => {
    const user = await createUser();
    const weak = await hashPassword(user.password, { memoryKib: 32, iterations: 1, parallelism: 1 });
    await env.DB.prepare("update users set password_hash = ? where id = ?").bind(weak, user.id).run();
    const response = await loginAs(user.email, user.password);
    expect(response.status).toBe(200);
    const row = await env.DB.prepare("select password_hash from users where id = ?").bind(user.id).first<{ password_hash: string }>();
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(row!.password_hash).not.toBe(weak);
    // The new hash verifies the same password, and the session works.
    expect((await loginAs(user.email, user.password)).status).toBe(200);
    expect((await authedFetch("/users/me", (await response.json<{ access_token: string }>()).access_token)).status).toBe(200);
  });

  it("does not rehash on a wrong password", async () => {
    const user = await createUser();
    const weak = await hashPassword(user.password, { memoryKib: 32, iterations: 1, parallelism: 1 });
    await env.DB.prepare("update users set password_hash = ? where id = ?").bind(weak, user.id).run();
    expect((await loginAs(user.email, WRONG_PASSWORD)).status).toBe(401);
    const row = await env.DB.prepare("select password_hash from users where id = ?").bind(user.id).first<{ password_hash: string }>();
    expect(row!.password_hash).toBe(weak);
  });
});
