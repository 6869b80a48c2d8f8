import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../helpers/api-keys";
import { authedFetch, createUser, type TestUser } from "../helpers/auth";
import { auditEventsFor, call, createAdmin, expectJson } from "../helpers/rbac";
import { expectProblem } from "../helpers/app-env";

let admin: TestUser;
let owner: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
  owner = await createUser({ roles: ["manager"] });
});

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("condition never became true");
}

describe("creating an API key", () => {
  it("returns a recognisable 256-bit secret once and stores only a keyed hash", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["users:read", "profile:read"] });
    expect(created.key).toMatch(/^eak_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created).toMatchObject({ owner_id: owner.id, scopes: ["profile:read", "users:read"], active: true });
    const row = await env.DB.prepare("select * from api_keys where id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(Object.values(row!)).not.toContain(created.key);
    expect(row!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    const listed = await expectJson<{ items: Record<string, unknown>[] }>(await call(owner.accessToken, "GET", "/api-keys"), 200);
    const item = listed.items.find((key) => key.id === created.id)!;
    expect(item).not.toHaveProperty("key");
    expect(await auditEventsFor(created.id)).toMatchObject([{ action: "api_key.created", actor_user_id: owner.id }]);
  });

  it("refuses a scope the caller does not hold (403) and an unknown one (422)", async () => {
    const denied = await call(owner.accessToken, "POST", "/api-keys", { name: "x", scopes: ["roles:write"] });
    expect((await expectProblem(denied, 403, "escalation_denied")).missing_permissions).toEqual(["roles:write"]);
    const unknown = await call(owner.accessToken, "POST", "/api-keys", { name: "x", scopes: ["nope:nothing"] });
    expect((await expectProblem(unknown, 422, "validation_failed")).errors).toEqual([{ path: "body.scopes.0", message: 'unknown permission "nope:nothing"' }]);
  });

  it("refuses a lifetime beyond API_KEY_MAX_TTL, naming the setting", async () => {
    const response = await call(owner.accessToken, "POST", "/api-keys", { name: "x", scopes: ["profile:read"], expires_in: 31_536_001 });
    expect((await expectProblem(response, 422, "validation_failed")).errors).toEqual([{ path: "body.expires_in", message: "must be at most 31536000 (API_KEY_MAX_TTL)" }]);
  });

  it("cannot be done with an API key (a leaked key cannot mint successors)", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["account:security", "profile:read"] });
    await expectProblem(await call(created.key, "POST", "/api-keys", { name: "child", scopes: ["profile:read"] }), 403, "session_required");
  });
});

describe("using an API key", () => {
  it("authenticates any route its scopes allow and only those", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["users:read", "profile:read"] });
    const me = await expectJson<{ id: string; permissions: string[] }>(await authedFetch("/users/me", created.key), 200);
    expect(me).toMatchObject({ id: owner.id, permissions: ["profile:read", "users:read"] });
    expect((await authedFetch("/users", created.key)).status).toBe(200);
    const denied = await authedFetch("/roles", created.key);
    expect((await expectProblem(denied, 403, "forbidden")).missing_permissions).toEqual(["roles:read"]);
  });

  it("has its own rate limit per key", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["profile:read"] });
    const response = await authedFetch("/users/me", created.key);
    expect(response.status).toBe(200);
    expect(response.headers.get("RateLimit-Policy")).toMatch(/^"api_key";q=600;w=60/);
  });

  it("records the last use (time and IP) after the response", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["profile:read"] });
    await authedFetch("/users/me", created.key, { headers: { "CF-Connecting-IP": "203.0.113.9" } });
    await eventually(async () => {
      const row = await env.DB.prepare("select last_used_at, last_used_ip from api_keys where id = ?").bind(created.id).first<{ last_used_at: number | null; last_used_ip: string }>();
      return row?.last_used_at !== null && row?.last_used_ip === "203.0.113.9";
    });
  });

  it("shrinks with its owner: demoting the owner removes the key's scopes at once", async () => {
    const manager = await createUser({ roles: ["manager"] });
    const created = await createKey(manager.accessToken, { scopes: ["users:read", "profile:read"] });
    expect((await authedFetch("/users", created.key)).status).toBe(200);
    await expectJson(await call(admin.accessToken, "PUT", `/users/${manager.id}/roles`, { roles: ["user"] }), 200);
    await expectProblem(await authedFetch("/users", created.key), 403, "forbidden");
    const me = await expectJson<{ permissions: string[] }>(await authedFetch("/users/me", created.key), 200);
    expect(me.permissions).toEqual(["profile:read"]);
  });

  it("stops when the owner is disabled", async () => {
    const user = await createUser();
    const created = await createKey(user.accessToken, { scopes: ["profile:read"] });
    await expectJson(await call(admin.accessToken, "PATCH", `/users/${user.id}`, { is_active: false }), 200);
    await expectProblem(await authedFetch("/users/me", created.key), 401, "unauthorized");
  });

  it("refuses tampered, wrong-prefix and expired keys", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["profile:read"] });
    const last = created.key.at(-1) === "A" ? "B" : "A";
    await expectProblem(await authedFetch("/users/me", `${created.key.slice(0, -1)}${last}`), 401, "unauthorized");
    await expectProblem(await authedFetch("/users/me", `xak_${created.key.slice(4)}`), 401, "unauthorized");
    await expectProblem(await authedFetch("/users/me", `${created.key}A`), 401, "unauthorized");
    await env.DB.prepare("update api_keys set expires_at = ? where id = ?").bind(Date.now() - 1, created.id).run();
    await expectProblem(await authedFetch("/users/me", created.key), 401, "unauthorized");
  });
});

describe("revoking and rotating", () => {
  it("revokes at once and audits a later use of the revoked key", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["profile:read"] });
    expect((await call(owner.accessToken, "DELETE", `/api-keys/${created.id}`)).status).toBe(204);
    expect((await call(owner.accessToken, "DELETE", `/api-keys/${created.id}`)).status).toBe(204);
    await expectProblem(await authedFetch("/users/me", created.key), 401, "unauthorized");
    await eventually(async () => (await auditEventsFor(created.id)).some((event) => event.action === "api_key.used_after_revoke"));
    const actions = (await auditEventsFor(created.id)).map((event) => event.action);
    expect(actions.filter((action) => action === "api_key.revoked")).toHaveLength(1);
    const key = await expectJson<{ active: boolean; revoked_at: string }>(await call(owner.accessToken, "GET", `/api-keys/${created.id}`), 200);
    expect(key).toMatchObject({ active: false, revoked_at: expect.any(String) });
  });

  it("rotates with an overlap window, and without one the old key stops at once", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["profile:read"] });
    const overlapped = await expectJson<{ key: string; id: string }>(await call(owner.accessToken, "POST", `/api-keys/${created.id}/rotate`, { overlap_seconds: 3600 }), 201);
    expect((await authedFetch("/users/me", created.key)).status).toBe(200);
    expect((await authedFetch("/users/me", overlapped.key)).status).toBe(200);
    expect((await auditEventsFor(created.id)).map((event) => event.action)).toContain("api_key.rotated");

    const next = await expectJson<{ key: string; rotated_from: string }>(await call(owner.accessToken, "POST", `/api-keys/${overlapped.id}/rotate`, {}), 201);
    expect(next.rotated_from).toBe(overlapped.id);
    await expectProblem(await authedFetch("/users/me", overlapped.key), 401, "unauthorized");
    expect((await authedFetch("/users/me", next.key)).status).toBe(200);
  });

  it("refuses an overlap beyond API_KEY_MAX_ROTATION_OVERLAP and rotating a dead key", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["profile:read"] });
    const tooLong = await call(owner.accessToken, "POST", `/api-keys/${created.id}/rotate`, { overlap_seconds: 86_401 });
    expect((await expectProblem(tooLong, 422, "validation_failed")).errors).toEqual([{ path: "body.overlap_seconds", message: "must be at most 86400 (API_KEY_MAX_ROTATION_OVERLAP)" }]);
    await call(owner.accessToken, "DELETE", `/api-keys/${created.id}`);
    await expectProblem(await call(owner.accessToken, "POST", `/api-keys/${created.id}/rotate`, {}), 409, "conflict");
  });
});

describe("other owners' keys", () => {
  it("are invisible without api_keys:manage and manageable with it", async () => {
    const created = await createKey(owner.accessToken, { scopes: ["profile:read"] });
    const stranger = await createUser();
    await expectProblem(await call(stranger.accessToken, "GET", `/api-keys/${created.id}`), 404, "not_found");
    await expectProblem(await call(stranger.accessToken, "DELETE", `/api-keys/${created.id}`), 404, "not_found");
    await expectProblem(await call(stranger.accessToken, "GET", `/api-keys?owner_id=${owner.id}`), 403, "forbidden");
    const forOther = await call(stranger.accessToken, "POST", "/api-keys", { name: "x", scopes: ["profile:read"], owner_id: owner.id });
    expect((await expectProblem(forOther, 403, "forbidden")).missing_permissions).toEqual(["api_keys:manage"]);

    const listed = await expectJson<{ items: { id: string }[] }>(await call(admin.accessToken, "GET", `/api-keys?owner_id=${owner.id}`), 200);
    expect(listed.items.map((item) => item.id)).toContain(created.id);
    expect((await call(admin.accessToken, "DELETE", `/api-keys/${created.id}`)).status).toBe(204);
    await expectProblem(await authedFetch("/users/me", created.key), 401, "unauthorized");
  });

  it("can be created for another owner only within the owner's permissions", async () => {
    const user = await createUser();
    const beyond = await call(admin.accessToken, "POST", "/api-keys", { name: "x", scopes: ["users:read"], owner_id: user.id });
    expect((await expectProblem(beyond, 422, "validation_failed")).errors).toEqual([{ path: "body.scopes.0", message: 'the owner does not hold "users:read"' }]);
    const created = await createKey(admin.accessToken, { scopes: ["files:read"], owner_id: user.id });
    expect(created.owner_id).toBe(user.id);
    expect((await authedFetch("/files", created.key)).status).toBe(200);
  });
});
