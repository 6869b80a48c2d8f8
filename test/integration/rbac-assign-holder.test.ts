import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createUser, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { call, expectJson, roleIdOf } from "../helpers/rbac";

/*
 * This database has no administrator at all: only holders of a custom role carrying roles:assign.
 * The guard must keep at least one active holder of roles:assign (someone who can repair role
 * assignments), independently of the admin role.
 */
let first: TestUser;
let second: TestUser;

beforeAll(async () => {
  const now = Date.now();
  const roleId = crypto.randomUUID();
  await env.DB.prepare("insert into roles (id, name, description, is_system, created_at, updated_at) values (?, 'keymaster', '', 0, ?, ?)").bind(roleId, now, now).run();
  await env.DB.prepare(
    "insert into role_permissions (role_id, permission_id) select ?, id from permissions where name in ('roles:assign', 'roles:write', 'roles:read', 'users:read', 'users:update', 'users:delete', 'profile:read')",
  )
    .bind(roleId)
    .run();
  first = await createUser({ roles: ["keymaster"] });
  second = await createUser({ roles: ["keymaster"] });
});

describe("the last holder of roles:assign", () => {
  it("a fresh database without administrators is not frozen: ordinary writes work", async () => {
    const target = await createUser({ roles: [] });
    await expectJson(await call(first.accessToken, "PATCH", `/users/${target.id}`, { is_active: false }), 200);
    await expectJson(await call(first.accessToken, "PUT", `/users/${target.id}/roles`, { roles: ["keymaster"] }), 200);
    expect((await call(first.accessToken, "DELETE", `/users/${target.id}`)).status).toBe(204);
  });

  it("cannot lose roles:assign through a change to the role all holders share", async () => {
    const problem = await expectProblem(
      await call(first.accessToken, "PATCH", `/roles/${await roleIdOf("keymaster")}`, { permissions: ["roles:write", "roles:read", "users:read", "users:update", "users:delete", "profile:read"] }),
      409,
      "last_admin",
    );
    expect(problem.detail).toMatch(/roles:assign/);
  });

  it("may be one of two, but not the last one", async () => {
    await expectJson(await call(first.accessToken, "PUT", `/users/${second.id}/roles`, { roles: [] }), 200);
    await expectProblem(await call(first.accessToken, "PATCH", `/users/${first.id}`, { is_active: false }), 409, "last_admin");
    await expectProblem(await call(first.accessToken, "DELETE", `/users/${first.id}`), 409, "last_admin");
    await expectProblem(await call(first.accessToken, "DELETE", `/roles/${await roleIdOf("keymaster")}?force=true`), 409, "last_admin");
  });
});
