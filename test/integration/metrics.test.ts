import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Metrics } from "../../src/modules/metrics/metrics.schemas";
import { authedFetch, createUser, postJson, uniqueEmail } from "../helpers/auth";

describe("GET /api/v1/metrics", () => {
  it("needs metrics:read: 401 without a token, 403 for a plain user", async () => {
    const anonymous = await authedFetch("/metrics", "not-a-token");
    expect(anonymous.status).toBe(401);
    const user = await createUser();
    const forbidden = await authedFetch("/metrics", user.accessToken);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ code: "forbidden", missing_permissions: ["metrics:read"] });
  });

  it("reports counts that follow the database", async () => {
    const admin = await createUser({ roles: ["admin"] });
    const read = async () => (await authedFetch("/metrics", admin.accessToken)).json<Metrics>();
    const before = await read();
    await createUser();
    expect((await postJson("/auth/login", { email: uniqueEmail("nobody"), password: "wrong password here" })).status).toBe(401);
    await env.DB.prepare("update users set is_active = 0 where id = (select id from users where id != ? order by created_at desc limit 1)").bind(admin.id).run();
    const after = await read();
    expect(after.users.total).toBe(before.users.total + 1);
    expect(after.users.disabled).toBe(before.users.disabled + 1);
    expect(after.sessions.live).toBeGreaterThanOrEqual(before.sessions.live);
    expect(after.security_events_last_24h.logins_failed).toBe(before.security_events_last_24h.logins_failed + 1);
    expect(after.security_events_last_24h.logins_succeeded).toBe(before.security_events_last_24h.logins_succeeded + 1);
    const response = await authedFetch("/metrics", admin.accessToken);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
  });
});
