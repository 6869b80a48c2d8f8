import { beforeAll, describe, expect, it } from "vitest";
import { createUser, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { auditEventsFor, call, createAdmin, expectJson } from "../helpers/rbac";

let admin: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
});

describe("POST and DELETE /users/{id}/roles/{role}", () => {
  it("add and remove one role, audited, idempotently", async () => {
    const user = await createUser();
    const added = await expectJson<{ roles: string[] }>(await call(admin.accessToken, "POST", `/users/${user.id}/roles/Manager`), 200);
    expect(added.roles).toEqual(["manager", "user"]);
    expect((await expectJson<{ roles: string[] }>(await call(admin.accessToken, "POST", `/users/${user.id}/roles/manager`), 200)).roles).toEqual(["manager", "user"]);
    const removed = await expectJson<{ roles: string[] }>(await call(admin.accessToken, "DELETE", `/users/${user.id}/roles/user`), 200);
    expect(removed.roles).toEqual(["manager"]);
    expect((await expectJson<{ roles: string[] }>(await call(admin.accessToken, "DELETE", `/users/${user.id}/roles/guest`), 200)).roles).toEqual(["manager"]);
    const actions = (await auditEventsFor(user.id)).map((event) => event.action);
    expect(actions.filter((action) => action === "user.role_added" || action === "user.role_removed")).toEqual(["user.role_removed", "user.role_added"]);
  });

  it("keep the guards: unknown role 404, own roles 403, escalation 403", async () => {
    const user = await createUser();
    await expectProblem(await call(admin.accessToken, "POST", `/users/${user.id}/roles/no-such-role`), 404, "not_found");
    await expectProblem(await call(admin.accessToken, "DELETE", `/users/${admin.id}/roles/admin`), 403, "self_role_change");
    const role = await expectJson<{ name: string }>(
      await call(admin.accessToken, "POST", "/roles", { name: `assigner-${Date.now().toString(36)}`, permissions: ["roles:assign", "users:read", "profile:read"] }),
      201,
    );
    const assigner = await createUser({ roles: [role.name] });
    // The user holds files:write (role user), which the assigner does not: adding or removing is refused.
    const denied = await expectProblem(await call(assigner.accessToken, "POST", `/users/${user.id}/roles/guest`), 403, "escalation_denied");
    expect(denied.missing_permissions).toContain("files:write");
    await expectProblem(await call(assigner.accessToken, "DELETE", `/users/${user.id}/roles/user`), 403, "escalation_denied");
    // On a user holding nothing, the assigner still cannot hand out the admin role's permissions.
    const bare = await createUser({ roles: [] });
    const escalation = await expectProblem(await call(assigner.accessToken, "POST", `/users/${bare.id}/roles/admin`), 403, "escalation_denied");
    expect(escalation.missing_permissions).toContain("roles:write");
  });
});
