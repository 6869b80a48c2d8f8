import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { ALL_PERMISSIONS, SYSTEM_ROLES } from "../../src/lib/permissions";
import { authedFetch, createUser, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { auditEventsFor, call, createAdmin, expectJson, roleIdOf } from "../helpers/rbac";

interface Role {
  id: string;
  name: string;
  description: string;
  is_system: boolean;
  permissions: string[];
  user_count: number;
}
interface Permission {
  id: string;
  name: string;
  is_system: boolean;
}
interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

let admin: TestUser;
let manager: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
  manager = await createUser({ roles: ["manager"] });
});

async function allPages<T>(token: string, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await expectJson<Page<T>>(await call(token, "GET", `${path}?limit=3${cursor ? `&cursor=${cursor}` : ""}`), 200);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

describe("GET /roles and /roles/{id}", () => {
  it("lists every role by name with its permissions, page by page", async () => {
    const roles = await allPages<Role>(manager.accessToken, "/roles");
    expect(roles.map((role) => role.name)).toEqual([...roles.map((role) => role.name)].sort());
    for (const [name, { permissions }] of Object.entries(SYSTEM_ROLES)) {
      expect(roles.find((role) => role.name === name)).toMatchObject({ is_system: true, permissions: [...permissions].sort() });
    }
    expect(roles.find((role) => role.name === "manager")?.user_count).toBe(1);
  });

  it("reads one role, 404 for an unknown id, 422 for a malformed one", async () => {
    const role = await expectJson<Role>(await call(manager.accessToken, "GET", `/roles/${await roleIdOf("admin")}`), 200);
    expect(role.permissions).toEqual([...ALL_PERMISSIONS].sort());
    await expectProblem(await call(manager.accessToken, "GET", `/roles/${crypto.randomUUID()}`), 404, "not_found");
    await expectProblem(await call(manager.accessToken, "GET", "/roles/admin"), 422, "validation_failed");
  });

  it("needs roles:read", async () => {
    const user = await createUser();
    await expectProblem(await call(user.accessToken, "GET", "/roles"), 403, "forbidden");
  });
});

describe("POST /roles", () => {
  it("creates a role with the permissions named and audits it", async () => {
    const response = await call(admin.accessToken, "POST", "/roles", { name: "support", description: "Helpdesk", permissions: ["users:read", "sessions:revoke", "users:read"] });
    const role = await expectJson<Role>(response, 201);
    expect(response.headers.get("Location")).toBe(`/api/v1/roles/${role.id}`);
    expect(role).toMatchObject({ name: "support", description: "Helpdesk", is_system: false, permissions: ["sessions:revoke", "users:read"], user_count: 0 });
    const [event] = await auditEventsFor(role.id);
    expect(event).toMatchObject({ action: "role.created", actor_user_id: admin.id, changes: { after: { name: "support", permissions: ["sessions:revoke", "users:read"] } } });
  });

  it("validates names: charset, length and case-insensitive uniqueness", async () => {
    for (const name of ["Support2", "a", "9lives", "has space", "x".repeat(65), "émile", ""]) {
      await expectProblem(await call(admin.accessToken, "POST", "/roles", { name }), 422, "validation_failed");
    }
    await expectProblem(await call(admin.accessToken, "POST", "/roles", { name: "manager" }), 409, "already_exists");
    await expectProblem(await call(admin.accessToken, "POST", "/roles", { name: "support" }), 409, "already_exists");
  });

  it("answers 422 naming unknown permissions", async () => {
    const problem = await expectProblem(await call(admin.accessToken, "POST", "/roles", { name: "ghosts", permissions: ["users:read", "users:fly", "nope"] }), 422, "validation_failed");
    expect(problem.errors).toEqual([
      { path: "body.permissions.1", message: 'unknown permission "users:fly"' },
      { path: "body.permissions.2", message: 'unknown permission "nope"' },
    ]);
    expect(await env.DB.prepare("select id from roles where name = 'ghosts'").first()).toBeNull();
  });

  it("refuses unknown fields and a caller without roles:write", async () => {
    await expectProblem(await call(admin.accessToken, "POST", "/roles", { name: "extra", is_system: true }), 422, "validation_failed");
    await expectProblem(await call(manager.accessToken, "POST", "/roles", { name: "mine" }), 403, "forbidden");
  });
});

describe("PATCH /roles/{id}", () => {
  it("renames, describes and replaces permissions, auditing each change", async () => {
    const created = await expectJson<Role>(await call(admin.accessToken, "POST", "/roles", { name: "auditor", permissions: ["audit:read"] }), 201);
    const updated = await expectJson<Role>(
      await call(admin.accessToken, "PATCH", `/roles/${created.id}`, { name: "auditors", description: "Reads the log", permissions: ["audit:read", "users:read"] }),
      200,
    );
    expect(updated).toMatchObject({ name: "auditors", description: "Reads the log", permissions: ["audit:read", "users:read"] });
    const events = await auditEventsFor(created.id);
    expect(events.find((event) => event.action === "role.updated")?.changes).toEqual({
      name: { before: "auditor", after: "auditors" },
      description: { before: "", after: "Reads the log" },
    });
    expect(events.find((event) => event.action === "role.permissions_replaced")?.changes).toMatchObject({
      before: ["audit:read"],
      after: ["audit:read", "users:read"],
      added: ["users:read"],
      removed: [],
    });
  });

  it("takes effect on the very next request of every holder", async () => {
    const role = await expectJson<Role>(await call(admin.accessToken, "POST", "/roles", { name: "lister", permissions: ["users:read"] }), 201);
    const holder = await createUser({ roles: ["lister"] });
    expect((await authedFetch("/users", holder.accessToken)).status).toBe(200);
    await expectJson(await call(admin.accessToken, "PATCH", `/roles/${role.id}`, { permissions: [] }), 200);
    await expectProblem(await authedFetch("/users", holder.accessToken), 403, "forbidden");
  });

  it("protects system roles: no renaming, and the admin role keeps every permission", async () => {
    await expectProblem(await call(admin.accessToken, "PATCH", `/roles/${await roleIdOf("user")}`, { name: "member" }), 409, "system_role");
    await expectProblem(await call(admin.accessToken, "PATCH", `/roles/${await roleIdOf("admin")}`, { permissions: ["users:read"] }), 409, "system_role");
    // Other system roles' permission sets may change; description changes are allowed everywhere.
    const guest = await expectJson<Role>(await call(admin.accessToken, "PATCH", `/roles/${await roleIdOf("guest")}`, { permissions: ["profile:read"], description: "Minimal" }), 200);
    expect(guest).toMatchObject({ name: "guest", permissions: ["profile:read"], description: "Minimal" });
  });

  it("answers 409 for a name taken in any case, 422 for unknown permissions, 404 for unknown roles", async () => {
    const role = await expectJson<Role>(await call(admin.accessToken, "POST", "/roles", { name: "temp" }), 201);
    await expectProblem(await call(admin.accessToken, "PATCH", `/roles/${role.id}`, { name: "manager" }), 409, "already_exists");
    await expectProblem(await call(admin.accessToken, "PATCH", `/roles/${role.id}`, { permissions: ["made:up"] }), 422, "validation_failed");
    await expectProblem(await call(admin.accessToken, "PATCH", `/roles/${crypto.randomUUID()}`, { description: "x" }), 404, "not_found");
  });
});

describe("DELETE /roles/{id}", () => {
  it("refuses system roles", async () => {
    for (const name of Object.keys(SYSTEM_ROLES)) {
      await expectProblem(await call(admin.accessToken, "DELETE", `/roles/${await roleIdOf(name)}?force=true`), 409, "system_role");
    }
  });

  it("needs force=true for an assigned role, then removes it from its holders", async () => {
    const role = await expectJson<Role>(await call(admin.accessToken, "POST", "/roles", { name: "doomed", permissions: ["users:read"] }), 201);
    const holder = await createUser({ roles: ["user", "doomed"] });
    const inUse = await expectProblem(await call(admin.accessToken, "DELETE", `/roles/${role.id}`), 409, "role_in_use");
    expect(inUse.user_count).toBe(1);
    expect((await call(admin.accessToken, "DELETE", `/roles/${role.id}?force=true`)).status).toBe(204);
    await expectProblem(await call(admin.accessToken, "GET", `/roles/${role.id}`), 404, "not_found");
    expect((await expectJson<{ roles: string[] }>(await authedFetch("/users/me", holder.accessToken), 200)).roles).toEqual(["user"]);
    await expectProblem(await authedFetch("/users", holder.accessToken), 403, "forbidden");
    const [event] = await auditEventsFor(role.id);
    expect(event).toMatchObject({ action: "role.deleted", changes: { forced: true, unassigned_user_count: 1, unassigned_user_ids: [holder.id] } });
  });

  it("deletes an unassigned role without force, and 404s afterwards", async () => {
    const role = await expectJson<Role>(await call(admin.accessToken, "POST", "/roles", { name: "unused" }), 201);
    expect((await call(admin.accessToken, "DELETE", `/roles/${role.id}`)).status).toBe(204);
    await expectProblem(await call(admin.accessToken, "DELETE", `/roles/${role.id}`), 404, "not_found");
    await expectProblem(await call(admin.accessToken, "DELETE", `/roles/${role.id}?force=maybe`), 422, "validation_failed");
  });
});

describe("permissions", () => {
  it("lists the catalog as system permissions, page by page", async () => {
    const permissions = await allPages<Permission>(manager.accessToken, "/permissions");
    for (const name of ALL_PERMISSIONS) expect(permissions.find((permission) => permission.name === name)?.is_system, name).toBe(true);
  });

  it("creates a custom permission that the admin role receives, and deletes it again", async () => {
    const created = await expectJson<Permission>(await call(admin.accessToken, "POST", "/permissions", { name: "reports:export", description: "Export reports" }), 201);
    expect(created).toMatchObject({ name: "reports:export", is_system: false });
    const adminRole = await expectJson<Role>(await call(admin.accessToken, "GET", `/roles/${await roleIdOf("admin")}`), 200);
    expect(adminRole.permissions).toContain("reports:export");
    expect((await expectJson<{ permissions: string[] }>(await authedFetch("/users/me", admin.accessToken), 200)).permissions).toContain("reports:export");

    const exporter = await expectJson<Role>(await call(admin.accessToken, "POST", "/roles", { name: "exporter", permissions: ["reports:export"] }), 201);
    expect((await call(admin.accessToken, "DELETE", `/permissions/${created.id}`)).status).toBe(204);
    expect((await expectJson<Role>(await call(admin.accessToken, "GET", `/roles/${exporter.id}`), 200)).permissions).toEqual([]);
    const [event] = await auditEventsFor(created.id);
    expect(event).toMatchObject({ action: "permission.deleted", changes: { revoked_from_roles: ["admin", "exporter"] } });
    await expectProblem(await call(admin.accessToken, "DELETE", `/permissions/${created.id}`), 404, "not_found");
  });

  it("validates resource:action names and refuses duplicates in any case", async () => {
    for (const name of ["reports", "Reports:export", "reports:", ":export", "a:b:c", "reports:ex port"]) {
      await expectProblem(await call(admin.accessToken, "POST", "/permissions", { name }), 422, "validation_failed");
    }
    await expectProblem(await call(admin.accessToken, "POST", "/permissions", { name: "users:read" }), 409, "already_exists");
  });

  it("never deletes a catalog permission", async () => {
    const row = await env.DB.prepare("select id from permissions where name = 'users:read'").first<{ id: string }>();
    await expectProblem(await call(admin.accessToken, "DELETE", `/permissions/${row!.id}`), 409, "catalog_permission");
  });

  it("needs permissions:write to change the list", async () => {
    await expectProblem(await call(manager.accessToken, "POST", "/permissions", { name: "x:y" }), 403, "forbidden");
  });
});
