import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../helpers/api-keys";
import { expectProblem } from "../helpers/app-env";
import { authedFetch, createUser, postJson, type TestUser } from "../helpers/auth";
import { auditEventsFor, call, createAdmin, expectJson } from "../helpers/rbac";

let admin: TestUser;
let counter = 0;
const uniqueName = () => `svc-${Date.now().toString(36)}-${++counter}`;

interface ServiceAccountJson {
  id: string;
  name: string;
  is_active: boolean;
  roles: string[];
}

beforeAll(async () => {
  admin = await createAdmin();
});

async function createServiceAccount(roles = ["user"]): Promise<ServiceAccountJson> {
  return expectJson<ServiceAccountJson>(await call(admin.accessToken, "POST", "/service-accounts", { name: uniqueName(), description: "ci", roles }), 201);
}

describe("service accounts", () => {
  it("are created with roles, listed on their own and not among the users", async () => {
    const account = await createServiceAccount();
    expect(account).toMatchObject({ is_active: true, roles: ["user"] });
    expect(await auditEventsFor(account.id)).toMatchObject([{ action: "service_account.created", actor_user_id: admin.id }]);
    const listed = await expectJson<{ items: { id: string }[] }>(await call(admin.accessToken, "GET", "/service-accounts?limit=100"), 200);
    expect(listed.items.map((item) => item.id)).toContain(account.id);
    const users = await expectJson<{ items: { id: string }[] }>(await call(admin.accessToken, "GET", "/users?limit=100&q=" + account.id.slice(0, 8)), 200);
    expect(users.items.map((item) => item.id)).not.toContain(account.id);
    await expectProblem(await call(admin.accessToken, "POST", "/service-accounts", { name: account.name }), 409, "already_exists");
  });

  it("act through API keys an administrator creates for them", async () => {
    const account = await createServiceAccount();
    const key = await createKey(admin.accessToken, { owner_id: account.id, scopes: ["files:read", "profile:read"] });
    const me = await expectJson<{ id: string; roles: string[] }>(await authedFetch("/users/me", key.key), 200);
    expect(me).toMatchObject({ id: account.id, roles: ["user"] });
    expect((await authedFetch("/files", key.key)).status).toBe(200);
  });

  it("can never log in with a password", async () => {
    const account = await createServiceAccount();
    const email = `${account.id}@service-accounts.invalid`;
    await env.DB.prepare("update users set email_verified_at = 1 where id = ?").bind(account.id).run();
    await expectProblem(await postJson("/auth/login", { email, password: "!service-account" }), 401, "invalid_credentials");
    await expectProblem(await postJson("/auth/login", { email, password: "any password at all 1" }), 401, "invalid_credentials");
    const failures = (await auditEventsFor(account.id)).filter((event) => event.action === "user.login_failed");
    expect(failures[0]?.changes).toEqual({ reason: "service_account" });
  });

  it("stop acting when disabled and disappear with their keys when deleted", async () => {
    const account = await createServiceAccount();
    const key = await createKey(admin.accessToken, { owner_id: account.id, scopes: ["profile:read"] });
    await expectJson(await call(admin.accessToken, "PATCH", `/service-accounts/${account.id}`, { is_active: false }), 200);
    await expectProblem(await authedFetch("/users/me", key.key), 401, "unauthorized");
    expect((await call(admin.accessToken, "DELETE", `/service-accounts/${account.id}`)).status).toBe(204);
    await expectProblem(await call(admin.accessToken, "GET", `/service-accounts/${account.id}`), 404, "not_found");
    expect(await env.DB.prepare("select count(*) as n from api_keys where owner_id = ?").bind(account.id).first("n")).toBe(0);
  });

  it("cannot be a way up: roles and accounts beyond the caller's permissions are refused", async () => {
    const writer = await createUser({ roles: ["user"] });
    // A custom role holding only service_accounts:write (and read).
    const role = await expectJson<{ name: string }>(
      await call(admin.accessToken, "POST", "/roles", { name: `sa-writer-${++counter}`, permissions: ["service_accounts:write", "service_accounts:read"] }),
      201,
    );
    await expectJson(await call(admin.accessToken, "PUT", `/users/${writer.id}/roles`, { roles: ["user", role.name] }), 200);
    const denied = await call(writer.accessToken, "POST", "/service-accounts", { name: uniqueName(), roles: ["admin"] });
    await expectProblem(denied, 403, "escalation_denied");
    const adminAccount = await createServiceAccount(["admin"]);
    await expectProblem(await call(writer.accessToken, "DELETE", `/service-accounts/${adminAccount.id}`), 403, "escalation_denied");
    const user = await createUser();
    await expectProblem(await call(user.accessToken, "POST", "/service-accounts", { name: uniqueName() }), 403, "forbidden");
  });
});
