import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/app-env";
import { API, authedFetch, createUser, randomIp, type TestUser } from "../helpers/auth";

function patchMe(user: TestUser, body: unknown): Promise<Response> {
  return authedFetch("/users/me", user.accessToken, { method: "PATCH", body: JSON.stringify(body) });
}

/** A PATCH body sent exactly as written (JSON.stringify would turn `__proto__` into a prototype). */
function patchMeRaw(user: TestUser, text: string): Promise<Response> {
  return SELF.fetch(`${API}/users/me`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${user.accessToken}`, "Content-Type": "application/json", "CF-Connecting-IP": randomIp() },
    body: text,
  });
}

async function userRow(id: string) {
  return env.DB.prepare("select * from users where id = ?").bind(id).first<Record<string, unknown>>();
}

async function roleNames(id: string): Promise<string[]> {
  const { results } = await env.DB.prepare("select r.name from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = ? order by r.name").bind(id).all<{ name: string }>();
  return results.map((row) => row.name);
}

describe("GET /users/me", () => {
  it("returns exactly the documented profile fields", async () => {
    const user = await createUser();
    const response = await authedFetch("/users/me", user.accessToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const profile = await response.json<Record<string, unknown>>();
    expect(Object.keys(profile).sort()).toEqual(
      ["created_at", "email", "email_verified", "first_name", "id", "is_active", "is_approved", "last_name", "middle_name", "permissions", "role_title", "roles"].sort(),
    );
    expect(profile).toMatchObject({ id: user.id, email: user.email, first_name: "Test", last_name: "User", middle_name: null, role_title: null, email_verified: true, roles: ["user"] });
    expect(JSON.stringify(profile)).not.toMatch(/password|hash/i);
  });

  it("reflects role changes made in D1 on the next request", async () => {
    const user = await createUser();
    await env.DB.prepare("insert into user_roles (user_id, role_id, created_at) select ?, id, ? from roles where name = 'admin'").bind(user.id, Date.now()).run();
    const profile = await (await authedFetch("/users/me", user.accessToken)).json<{ roles: string[] }>();
    expect(profile.roles).toEqual(["admin", "user"]);
  });

  it("answers 401 without a token and 403 for a user without profile:read", async () => {
    const anonymous = await SELF.fetch(`${API}/users/me`);
    expect(anonymous.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
    await expectProblem(anonymous, 401, "unauthorized");
    const roleless = await createUser({ roles: [] });
    const body = await expectProblem(await authedFetch("/users/me", roleless.accessToken), 403, "forbidden");
    expect(body.missing_permissions).toEqual(["profile:read"]);
  });
});

describe("PATCH /users/me", () => {
  it("changes names and title, trims them, audits the change, and returns the profile", async () => {
    const user = await createUser();
    const response = await patchMe(user, { first_name: "  Ada ", middle_name: "King", role_title: "Countess" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ first_name: "Ada", middle_name: "King", last_name: "User", role_title: "Countess" });
    expect(await userRow(user.id)).toMatchObject({ first_name: "Ada", middle_name: "King", role_title: "Countess" });
    const event = await env.DB.prepare("select * from audit_logs where action = 'user.profile_updated' and target_id = ?").bind(user.id).first<{ actor_user_id: string; changes: string }>();
    expect(event?.actor_user_id).toBe(user.id);
    expect(JSON.parse(event!.changes)).toEqual({ first_name: { before: "Test", after: "Ada" }, middle_name: { before: null, after: "King" }, role_title: { before: null, after: "Countess" } });
    // Clearing an optional field with null works; a required one cannot be blanked.
    expect((await patchMe(user, { middle_name: null })).status).toBe(200);
    expect((await userRow(user.id))?.middle_name).toBeNull();
    await expectProblem(await patchMe(user, { first_name: "   " }), 422, "validation_failed");
  });

  const smuggled: Array<[string, string]> = [
    ["role", '"admin"'],
    ["roles", '["admin"]'],
    ["is_active", "false"],
    ["is_approved", "true"],
    ["email_verified", "false"],
    ["email", '"takeover@example.com"'],
    ["password", '"a brand new password 1"'],
    ["password_hash", '"$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"'],
    ["id", '"00000000-0000-7000-8000-000000000000"'],
    ["permissions", '["roles:manage"]'],
    ["__proto__", '{"roles": ["admin"], "is_approved": true}'],
    ["constructor", '{"prototype": {"roles": ["admin"]}}'],
  ];
  for (const [field, value] of smuggled) {
    it(`refuses "${field}" next to a legitimate change with 422 and changes nothing`, async () => {
      const user = await createUser();
      const before = await userRow(user.id);
      const body = await expectProblem(await patchMeRaw(user, `{"first_name": "Mallory", ${JSON.stringify(field)}: ${value}}`), 422, "validation_failed");
      expect(JSON.stringify(body.errors)).toContain(field);
      expect(await userRow(user.id)).toEqual(before);
      expect(await roleNames(user.id)).toEqual(["user"]);
    });
  }

  it("answers an empty patch with the unchanged profile and writes no audit row", async () => {
    const user = await createUser();
    const response = await patchMe(user, {});
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ first_name: "Test" });
    const events = await env.DB.prepare("select count(*) as n from audit_logs where action = 'user.profile_updated' and target_id = ?").bind(user.id).first<{ n: number }>();
    expect(events?.n).toBe(0);
  });

  it("refuses over-long names and non-object bodies", async () => {
    const user = await createUser();
    await expectProblem(await patchMe(user, { last_name: "x".repeat(101) }), 422, "validation_failed");
    await expectProblem(await patchMe(user, ["first_name", "Eve"]), 422, "validation_failed");
  });

  it("needs a valid token", async () => {
    const response = await SELF.fetch(`${API}/users/me`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ first_name: "Eve" }) });
    await expectProblem(response, 401, "unauthorized");
  });
});
