import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { authedFetch, createUser, login, postJson, STRONG_PASSWORD, uniqueEmail, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { auditEventsFor, call, createAdmin, expectJson, newUserBody } from "../helpers/rbac";

interface Profile {
  id: string;
  email: string;
  first_name: string;
  roles: string[];
  permissions: string[];
  is_active: boolean;
  is_approved: boolean;
  email_verified: boolean;
}
interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

let admin: TestUser;
let manager: TestUser;
let plain: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
  manager = await createUser({ roles: ["manager"] });
  plain = await createUser();
});

describe("GET /users", () => {
  it("pages through every user in (created_at, id) order without repeats", async () => {
    const seen: Profile[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const page: Page<Profile> = await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", `/users${query}`), 200);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    const { results } = await env.DB.prepare("select id from users order by created_at, id").all<{ id: string }>();
    expect(seen.map((user) => user.id)).toEqual(results.map((row) => row.id));
    expect(seen.find((user) => user.id === manager.id)).toMatchObject({ email: manager.email, roles: ["manager"], is_active: true });
    expect(seen[0]).not.toHaveProperty("permissions");
  });

  it("filters by email or name prefix, role and flags", async () => {
    const grace = await expectJson<Profile>(await call(admin.accessToken, "POST", "/users", newUserBody({ first_name: "Zelda", last_name: "Quux_Ω", roles: ["guest"] })), 201);
    const byName = await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", "/users?q=zEL"), 200);
    expect(byName.items.map((user) => user.id)).toEqual([grace.id]);
    const byLastName = await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", "/users?q=quux_"), 200);
    expect(byLastName.items.map((user) => user.id)).toEqual([grace.id]);
    // `_` is a literal here, not a LIKE wildcard.
    expect((await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", "/users?q=quuxx"), 200)).items).toEqual([]);
    const byEmail = await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", `/users?q=${encodeURIComponent(manager.email.slice(0, 12))}`), 200);
    expect(byEmail.items.map((user) => user.id)).toContain(manager.id);
    const guests = await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", "/users?role=guest"), 200);
    expect(guests.items.map((user) => user.id)).toEqual([grace.id]);

    await expectJson(await call(admin.accessToken, "PATCH", `/users/${grace.id}`, { is_active: false }), 200);
    const inactive = await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", "/users?is_active=false"), 200);
    expect(inactive.items.map((user) => user.id)).toEqual([grace.id]);
    const active = await expectJson<Page<Profile>>(await call(admin.accessToken, "GET", "/users?is_active=true&is_approved=true&limit=100"), 200);
    expect(active.items.map((user) => user.id)).not.toContain(grace.id);
  });

  it("refuses bad limits, cursors, flags and unknown roles with 422", async () => {
    for (const query of ["limit=0", "limit=101", "limit=abc", "cursor=bm90LWEtY3Vyc29y", "cursor=%2F%2F", "is_active=yes"]) {
      await expectProblem(await call(admin.accessToken, "GET", `/users?${query}`), 422, "validation_failed");
    }
    const unknown = await expectProblem(await call(admin.accessToken, "GET", "/users?role=wizard"), 422, "validation_failed");
    expect(unknown.errors).toEqual([{ path: "query.role", message: 'unknown role "wizard"' }]);
  });

  it("needs users:read", async () => {
    const denied = await expectProblem(await call(plain.accessToken, "GET", "/users"), 403, "forbidden");
    expect(denied.missing_permissions).toEqual(["users:read"]);
    expect((await authedFetch("/users", "invalid.token.value")).status).toBe(401);
  });
});

describe("POST /users", () => {
  it("creates a verified, approved account with the roles given, able to log in at once", async () => {
    const body = newUserBody({ email: `  ${uniqueEmail("New").toUpperCase()}`, roles: ["manager", "guest"], role_title: "Ops" });
    const response = await call(admin.accessToken, "POST", "/users", body);
    const created = await expectJson<Profile>(response, 201);
    expect(response.headers.get("Location")).toBe(`/api/v1/users/${created.id}`);
    expect(created).toMatchObject({ email: body.email.trim().toLowerCase(), email_verified: true, is_approved: true, is_active: true, roles: ["guest", "manager"] });
    expect(created.permissions).toContain("users:read");
    const tokens = await login(created.email, STRONG_PASSWORD);
    expect((await authedFetch("/users/me", tokens.access_token)).status).toBe(200);

    const event = (await auditEventsFor(created.id)).find((row) => row.action === "user.created");
    expect(event).toMatchObject({ actor_user_id: admin.id });
    expect(JSON.stringify(event!.changes)).not.toMatch(/password|argon2/i);
    expect(event!.changes).toMatchObject({ after: { roles: ["guest", "manager"], email: created.email } });
  });

  it("gives the default role when no roles are named", async () => {
    const created = await expectJson<Profile>(await call(admin.accessToken, "POST", "/users", newUserBody()), 201);
    expect(created.roles).toEqual(["user"]);
  });

  it("answers 409 for an address that exists in any spelling", async () => {
    await expectProblem(await call(admin.accessToken, "POST", "/users", newUserBody({ email: ` ${plain.email.toUpperCase()}` })), 409, "already_exists");
  });

  it("answers 422 naming unknown roles, and creates nothing", async () => {
    const body = newUserBody({ roles: ["user", "wizard", "Ghost"] });
    const problem = await expectProblem(await call(admin.accessToken, "POST", "/users", body), 422, "validation_failed");
    expect(problem.errors).toEqual([
      { path: "body.roles.1", message: 'unknown role "wizard"' },
      { path: "body.roles.2", message: 'unknown role "Ghost"' },
    ]);
    expect(problem.unknown_roles).toEqual(["wizard", "Ghost"]);
    expect(await env.DB.prepare("select id from users where email = ?").bind(body.email).first()).toBeNull();
  });

  it("applies the password policy and refuses unknown fields", async () => {
    const weak = await expectProblem(await call(admin.accessToken, "POST", "/users", newUserBody({ password: "password" })), 422, "validation_failed");
    expect(weak.errors?.[0]?.path).toBe("body.password");
    await expectProblem(await call(admin.accessToken, "POST", "/users", newUserBody({ is_admin: true })), 422, "validation_failed");
    await expectProblem(await call(admin.accessToken, "POST", "/users", newUserBody({ roles: "admin" })), 422, "validation_failed");
  });

  it("lets a manager create only accounts whose roles it fully holds", async () => {
    const denied = await expectProblem(await call(manager.accessToken, "POST", "/users", newUserBody({ roles: ["admin"] })), 403, "escalation_denied");
    expect(denied.missing_permissions).toEqual(expect.arrayContaining(["roles:assign", "roles:write", "permissions:write"]));
    await expectJson(await call(manager.accessToken, "POST", "/users", newUserBody({ roles: ["user"] })), 201);
  });

  it("needs users:create", async () => {
    await expectProblem(await call(plain.accessToken, "POST", "/users", newUserBody()), 403, "forbidden");
  });
});

describe("GET /users/{id}", () => {
  it("returns the profile with roles and effective permissions", async () => {
    const profile = await expectJson<Profile>(await call(manager.accessToken, "GET", `/users/${plain.id}`), 200);
    expect(profile).toMatchObject({ id: plain.id, email: plain.email, roles: ["user"] });
    expect(profile.permissions).toEqual(expect.arrayContaining(["profile:read", "files:write", "ai:use"]));
  });

  it("answers 404 for an unknown id and 422 for a malformed one", async () => {
    await expectProblem(await call(admin.accessToken, "GET", `/users/${crypto.randomUUID()}`), 404, "not_found");
    await expectProblem(await call(admin.accessToken, "GET", "/users/not-a-uuid"), 422, "validation_failed");
  });

  it("answers a caller without users:read the same 403 for existing and unknown ids", async () => {
    const existing = await expectProblem(await call(plain.accessToken, "GET", `/users/${manager.id}`), 403, "forbidden");
    const unknown = await expectProblem(await call(plain.accessToken, "GET", `/users/${crypto.randomUUID()}`), 403, "forbidden");
    expect(existing.detail).toBe(unknown.detail);
  });

  it("still serves /users/me to its owner", async () => {
    expect((await expectJson<Profile>(await call(plain.accessToken, "GET", "/users/me"), 200)).id).toBe(plain.id);
  });
});

describe("PATCH /users/{id}", () => {
  it("changes names and flags and records before/after", async () => {
    const target = await createUser();
    const updated = await expectJson<Profile>(await call(manager.accessToken, "PATCH", `/users/${target.id}`, { first_name: "Renamed", is_approved: true }), 200);
    expect(updated.first_name).toBe("Renamed");
    const [event] = await auditEventsFor(target.id);
    expect(event).toMatchObject({ action: "user.updated", actor_user_id: manager.id, changes: { first_name: { before: "Test", after: "Renamed" } } });
  });

  it("disabling ends every session at once: the next request is a 401 and refresh fails", async () => {
    const target = await createUser();
    const second = await login(target.email, target.password);
    await expectJson(await call(admin.accessToken, "PATCH", `/users/${target.id}`, { is_active: false }), 200);
    for (const token of [target.accessToken, second.access_token]) expect((await authedFetch("/users/me", token)).status).toBe(401);
    expect((await postJson("/auth/refresh", { refresh_token: target.refreshToken })).status).toBe(401);
    const live = await env.DB.prepare("select count(*) as n from sessions where user_id = ? and ended_at is null").bind(target.id).first<{ n: number }>();
    expect(live?.n).toBe(0);
    const [event] = await auditEventsFor(target.id);
    expect(event).toMatchObject({ action: "user.updated", changes: { is_active: { before: true, after: false }, sessions_ended: 2, reason: "user_disabled" } });
    const login403 = await postJson("/auth/login", { email: target.email, password: target.password });
    expect(login403.status).toBe(403);
  });

  it("withdrawing approval ends sessions too", async () => {
    const target = await createUser();
    await expectJson(await call(admin.accessToken, "PATCH", `/users/${target.id}`, { is_approved: false }), 200);
    expect((await authedFetch("/users/me", target.accessToken)).status).toBe(401);
  });

  it("refuses email, password, roles and unknown fields", async () => {
    for (const body of [{ email: "x@example.com" }, { password: STRONG_PASSWORD }, { roles: ["admin"] }, { password_hash: "x" }, { is_active: "no" }]) {
      await expectProblem(await call(admin.accessToken, "PATCH", `/users/${plain.id}`, body), 422, "validation_failed");
    }
  });

  it("answers 404 for an unknown user and 403 without users:update", async () => {
    await expectProblem(await call(admin.accessToken, "PATCH", `/users/${crypto.randomUUID()}`, { first_name: "X" }), 404, "not_found");
    await expectProblem(await call(plain.accessToken, "PATCH", `/users/${manager.id}`, { is_active: false }), 403, "forbidden");
  });

  it("does not let a manager disable or delete an administrator", async () => {
    const denied = await expectProblem(await call(manager.accessToken, "PATCH", `/users/${admin.id}`, { is_active: false }), 403, "escalation_denied");
    expect(denied.missing_permissions).toContain("roles:assign");
    await expectProblem(await call(manager.accessToken, "DELETE", `/users/${admin.id}`), 403, "escalation_denied");
    expect((await authedFetch("/users/me", admin.accessToken)).status).toBe(200);
  });
});

describe("DELETE /users/{id}", () => {
  it("deletes the user, their sessions, roles, file rows and R2 objects, and keeps the audit trail", async () => {
    const target = await createUser();
    const fileIds = [crypto.randomUUID(), crypto.randomUUID()];
    for (const fileId of fileIds) {
      await env.FILES.put(`files/${target.id}/${fileId}`, "content");
      await env.DB.prepare(
        "insert into files (id, owner_id, name, content_type, size, sha256, r2_key, created_at) values (?, ?, 'a.txt', 'text/plain', 7, ?, ?, ?)",
      )
        .bind(fileId, target.id, "0".repeat(64), `files/${target.id}/${fileId}`, Date.now())
        .run();
    }
    await env.FILES.put(`files/${plain.id}/keep`, "not theirs");

    const response = await call(admin.accessToken, "DELETE", `/users/${target.id}`);
    expect(response.status).toBe(204);
    expect((await authedFetch("/users/me", target.accessToken)).status).toBe(401);
    await expectProblem(await call(admin.accessToken, "GET", `/users/${target.id}`), 404, "not_found");
    for (const table of ["sessions", "user_roles", "email_tokens"]) {
      const row = await env.DB.prepare(`select count(*) as n from ${table} where user_id = ?`).bind(target.id).first<{ n: number }>();
      expect(row?.n, table).toBe(0);
    }
    expect((await env.DB.prepare("select count(*) as n from files where owner_id = ?").bind(target.id).first<{ n: number }>())?.n).toBe(0);
    expect((await env.FILES.list({ prefix: `files/${target.id}/` })).objects).toEqual([]);
    expect(await env.FILES.head(`files/${plain.id}/keep`)).not.toBeNull();

    const [event] = await auditEventsFor(target.id);
    expect(event).toMatchObject({ action: "user.deleted", actor_user_id: admin.id, target_id: target.id, changes: { files_deleted: 2, sessions_ended: 1, before: { email: target.email } } });
    await expectProblem(await call(admin.accessToken, "DELETE", `/users/${target.id}`), 404, "not_found");
  });

  it("needs users:delete", async () => {
    await expectProblem(await call(plain.accessToken, "DELETE", `/users/${manager.id}`), 403, "forbidden");
  });
});

describe("PUT /users/{id}/roles", () => {
  it("replaces the roles; the user's very next request uses them", async () => {
    const target = await createUser({ roles: ["manager"] });
    expect((await authedFetch("/users", target.accessToken)).status).toBe(200);
    const updated = await expectJson<Profile>(await call(admin.accessToken, "PUT", `/users/${target.id}/roles`, { roles: ["guest", "user"] }), 200);
    expect(updated.roles).toEqual(["guest", "user"]);
    expect(updated.permissions).not.toContain("users:read");
    await expectProblem(await authedFetch("/users", target.accessToken), 403, "forbidden");
    const [event] = await auditEventsFor(target.id);
    expect(event).toMatchObject({ action: "user.roles_replaced", actor_user_id: admin.id, changes: { before: ["manager"], after: ["guest", "user"] } });
  });

  it("answers 422 naming unknown roles and changes nothing", async () => {
    const problem = await expectProblem(await call(admin.accessToken, "PUT", `/users/${plain.id}/roles`, { roles: ["nobody"] }), 422, "validation_failed");
    expect(problem.errors).toEqual([{ path: "body.roles.0", message: 'unknown role "nobody"' }]);
    expect((await expectJson<Profile>(await call(admin.accessToken, "GET", `/users/${plain.id}`), 200)).roles).toEqual(["user"]);
  });

  it("refuses changing one's own roles, unknown users and callers without roles:assign", async () => {
    await expectProblem(await call(admin.accessToken, "PUT", `/users/${admin.id}/roles`, { roles: ["admin", "user"] }), 403, "self_role_change");
    await expectProblem(await call(admin.accessToken, "PUT", `/users/${crypto.randomUUID()}/roles`, { roles: ["user"] }), 404, "not_found");
    await expectProblem(await call(manager.accessToken, "PUT", `/users/${plain.id}/roles`, { roles: ["guest"] }), 403, "forbidden");
  });
});

describe("GET and DELETE /users/{id}/sessions", () => {
  it("lists another user's live sessions and ends them all", async () => {
    const target = await createUser();
    await login(target.email, target.password);
    const list = await expectJson<{ items: { id: string; current: boolean }[] }>(await call(manager.accessToken, "GET", `/users/${target.id}/sessions`), 200);
    expect(list.items).toHaveLength(2);
    expect(list.items.every((session) => session.current === false)).toBe(true);

    expect((await call(manager.accessToken, "DELETE", `/users/${target.id}/sessions`)).status).toBe(204);
    expect((await authedFetch("/users/me", target.accessToken)).status).toBe(401);
    expect((await expectJson<{ items: unknown[] }>(await call(manager.accessToken, "GET", `/users/${target.id}/sessions`), 200)).items).toEqual([]);
    const [event] = await auditEventsFor(target.id);
    expect(event).toMatchObject({ action: "user.sessions_revoked", actor_user_id: manager.id, changes: { sessions_ended: 2 } });
  });

  it("answers 404 for a user that does not exist", async () => {
    await expectProblem(await call(admin.accessToken, "GET", `/users/${crypto.randomUUID()}/sessions`), 404, "not_found");
    await expectProblem(await call(admin.accessToken, "DELETE", `/users/${crypto.randomUUID()}/sessions`), 404, "not_found");
  });

  it("needs sessions:revoke", async () => {
    await expectProblem(await call(plain.accessToken, "GET", `/users/${manager.id}/sessions`), 403, "forbidden");
  });
});
