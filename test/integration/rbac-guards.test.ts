import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { authedFetch, createUser, login, STRONG_PASSWORD, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { call, createAdmin, expectJson, newUserBody, roleIdOf } from "../helpers/rbac";

const auditCount = async () => (await env.DB.prepare("select count(*) as n from audit_logs").first<{ n: number }>())!.n;
const activeAdmins = async () =>
  (await env.DB.prepare("select count(*) as n from users u join user_roles ur on ur.user_id = u.id join roles r on r.id = ur.role_id where r.name = 'admin' and u.is_active = 1").first<{ n: number }>())!.n;

// One file, one database: the first administrator created here is the only one until a test adds more.
let admin: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
});

describe("the last administrator", () => {
  it("cannot disable, unapprove or delete themselves, and nothing is recorded for the refused change", async () => {
    const before = await auditCount();
    const disabled = await expectProblem(await call(admin.accessToken, "PATCH", `/users/${admin.id}`, { is_active: false }), 409, "last_admin");
    expect(disabled.detail).toMatch(/admin role/);
    await expectProblem(await call(admin.accessToken, "PATCH", `/users/${admin.id}`, { is_approved: false }), 409, "last_admin");
    await expectProblem(await call(admin.accessToken, "DELETE", `/users/${admin.id}`), 409, "last_admin");
    expect(await auditCount()).toBe(before);
    expect((await authedFetch("/users/me", admin.accessToken)).status).toBe(200);
  });

  it("cannot change their own roles", async () => {
    await expectProblem(await call(admin.accessToken, "PUT", `/users/${admin.id}/roles`, { roles: ["user"] }), 403, "self_role_change");
  });

  it("can hand over: a second admin demotes the first, whose next request is refused; then the second is the last", async () => {
    const created = await expectJson<{ id: string; email: string }>(await call(admin.accessToken, "POST", "/users", newUserBody({ roles: ["admin"] })), 201);
    const second = await login(created.email, STRONG_PASSWORD);
    await expectJson(await call(second.access_token, "PUT", `/users/${admin.id}/roles`, { roles: ["user"] }), 200);
    await expectProblem(await authedFetch("/users", admin.accessToken), 403, "forbidden");
    await expectProblem(await call(second.access_token, "PATCH", `/users/${created.id}`, { is_active: false }), 409, "last_admin");
    // Restore for the tests below.
    await expectJson(await call(second.access_token, "PUT", `/users/${admin.id}/roles`, { roles: ["admin"] }), 200);
  });

  it("survives two administrators demoting each other at the same moment: exactly one change wins", async () => {
    const a = await createAdmin();
    const b = await createAdmin();
    // Leave a and b as the only active administrators.
    await env.DB.prepare("update users set is_active = 0 where id in (select user_id from user_roles where role_id = ?) and id not in (?, ?)")
      .bind(await roleIdOf("admin"), a.id, b.id)
      .run();
    expect(await activeAdmins()).toBe(2);
    const [first, second] = await Promise.all([
      call(a.accessToken, "PUT", `/users/${b.id}/roles`, { roles: ["user"] }),
      call(b.accessToken, "PUT", `/users/${a.id}/roles`, { roles: ["user"] }),
    ]);
    const statuses = [first.status, second.status].sort();
    expect(statuses[0]).toBe(200);
    // The loser either lost its own admin role before its request was authorized (403) or was stopped by the guard (409).
    expect([403, 409]).toContain(statuses[1]);
    expect(await activeAdmins()).toBe(1);
    await env.DB.prepare("update users set is_active = 1").run();
  });
});

describe("escalation guards", () => {
  let helpdesk: TestUser;
  let roleWriter: TestUser;
  let guestUser: TestUser;
  let regular: TestUser;

  beforeAll(async () => {
    // helpdesk: may assign roles, but holds only what a guest holds plus reading users.
    await expectJson(
      await call(admin.accessToken, "POST", "/roles", { name: "helpdesk", permissions: ["roles:assign", "roles:read", "users:read", "profile:read", "account:security", "files:read"] }),
      201,
    );
    await expectJson(await call(admin.accessToken, "POST", "/roles", { name: "rolewriter", permissions: ["roles:write", "roles:read", "profile:read"] }), 201);
    helpdesk = await createUser({ roles: ["helpdesk"] });
    roleWriter = await createUser({ roles: ["rolewriter"] });
    guestUser = await createUser({ roles: ["guest"] });
    regular = await createUser();
  });

  it("refuses assigning a role whose permissions the caller lacks, naming them", async () => {
    const toAdmin = await expectProblem(await call(helpdesk.accessToken, "PUT", `/users/${guestUser.id}/roles`, { roles: ["admin"] }), 403, "escalation_denied");
    expect(toAdmin.missing_permissions).toEqual(expect.arrayContaining(["users:delete", "permissions:write"]));
    expect(toAdmin.missing_permissions).not.toContain("roles:assign");
    await expectProblem(await call(helpdesk.accessToken, "PUT", `/users/${guestUser.id}/roles`, { roles: ["manager"] }), 403, "escalation_denied");
    expect((await expectJson<{ roles: string[] }>(await call(admin.accessToken, "GET", `/users/${guestUser.id}`), 200)).roles).toEqual(["guest"]);
  });

  it("allows assigning roles the caller fully holds", async () => {
    const updated = await expectJson<{ roles: string[] }>(await call(helpdesk.accessToken, "PUT", `/users/${guestUser.id}/roles`, { roles: [] }), 200);
    expect(updated.roles).toEqual([]);
    await expectJson(await call(helpdesk.accessToken, "PUT", `/users/${guestUser.id}/roles`, { roles: ["guest"] }), 200);
  });

  it("refuses changing the roles of a user who holds permissions the caller lacks (no demoting a superior)", async () => {
    const denied = await expectProblem(await call(helpdesk.accessToken, "PUT", `/users/${regular.id}/roles`, { roles: ["guest"] }), 403, "escalation_denied");
    expect(denied.missing_permissions).toEqual(expect.arrayContaining(["files:write", "ai:use"]));
    await expectProblem(await call(helpdesk.accessToken, "PUT", `/users/${admin.id}/roles`, { roles: [] }), 403, "escalation_denied");
  });

  it("refuses granting a permission the caller lacks through a role, and editing a superior role", async () => {
    const denied = await expectProblem(await call(roleWriter.accessToken, "POST", "/roles", { name: "sneaky", permissions: ["roles:read", "users:delete"] }), 403, "escalation_denied");
    expect(denied.missing_permissions).toEqual(["users:delete"]);
    await expectJson(await call(roleWriter.accessToken, "POST", "/roles", { name: "readers", permissions: ["roles:read"] }), 201);
    const own = await roleIdOf("rolewriter");
    await expectProblem(await call(roleWriter.accessToken, "PATCH", `/roles/${own}`, { permissions: ["roles:write", "roles:read", "profile:read", "roles:assign"] }), 403, "escalation_denied");
    await expectProblem(await call(roleWriter.accessToken, "PATCH", `/roles/${await roleIdOf("manager")}`, { description: "mine now" }), 403, "escalation_denied");
    await expectProblem(await call(roleWriter.accessToken, "DELETE", `/roles/${await roleIdOf("helpdesk")}?force=true`), 403, "escalation_denied");
    expect((await expectJson<{ permissions: string[] }>(await authedFetch("/users/me", roleWriter.accessToken), 200)).permissions).not.toContain("roles:assign");
  });

  it("refuses smuggling roles or flags through the self-service profile", async () => {
    for (const body of [{ roles: ["admin"] }, { is_active: true }, { permissions: ["users:read"] }]) {
      await expectProblem(await call(regular.accessToken, "PATCH", "/users/me", body), 422, "validation_failed");
    }
  });
});

describe("object-level access", () => {
  it("answers 404 when a user ends another user's session, and the session keeps working", async () => {
    const alice = await createUser();
    const bob = await createUser();
    const { items } = await expectJson<{ items: { id: string }[] }>(await authedFetch("/auth/sessions", bob.accessToken), 200);
    await expectProblem(await call(alice.accessToken, "DELETE", `/auth/sessions/${items[0]!.id}`), 404, "not_found");
    expect((await authedFetch("/users/me", bob.accessToken)).status).toBe(200);
  });

  it("gives a caller without users:read the same 403 whether another user's id exists or not", async () => {
    const alice = await createUser();
    const bob = await createUser();
    for (const [method, suffix] of [["GET", ""], ["GET", "/sessions"], ["DELETE", "/sessions"], ["DELETE", ""]] as const) {
      const existing = await expectProblem(await call(alice.accessToken, method, `/users/${bob.id}${suffix}`), 403, "forbidden");
      const unknown = await expectProblem(await call(alice.accessToken, method, `/users/${crypto.randomUUID()}${suffix}`), 403, "forbidden");
      expect(existing.detail).toBe(unknown.detail);
    }
    expect((await authedFetch("/users/me", bob.accessToken)).status).toBe(200);
  });
});
