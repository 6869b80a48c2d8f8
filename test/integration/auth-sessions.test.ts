import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/app-env";
import { API, authedFetch, createUser, login, postJson } from "../helpers/auth";

const sessionOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

async function expectRevoked(accessToken: string): Promise<void> {
  const response = await authedFetch("/users/me", accessToken);
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
  await expectProblem(response, 401, "unauthorized");
}

async function sessionRow(id: string) {
  return env.DB.prepare("select ended_at, end_reason from sessions where id = ?").bind(id).first<{ ended_at: number | null; end_reason: string | null }>();
}

interface SessionItem {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string | null;
  country: string | null;
  current: boolean;
}

describe("POST /auth/logout", () => {
  it("ends the session: its access and refresh tokens stop working at once", async () => {
    const user = await createUser();
    const other = await login(user.email, user.password);
    const response = await postJson("/auth/logout", { refresh_token: user.refreshToken });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    await expectRevoked(user.accessToken);
    await expectProblem(await postJson("/auth/refresh", { refresh_token: user.refreshToken }), 401, "invalid_refresh_token");
    expect(await sessionRow(sessionOf(user.accessToken))).toMatchObject({ ended_at: expect.any(Number), end_reason: "logout" });
    // Only that session: the user's other one lives on.
    expect((await authedFetch("/users/me", other.access_token)).status).toBe(200);
  });

  it("answers 204 again for an already ended session and for an unknown token", async () => {
    const user = await createUser();
    expect((await postJson("/auth/logout", { refresh_token: user.refreshToken })).status).toBe(204);
    expect((await postJson("/auth/logout", { refresh_token: user.refreshToken })).status).toBe(204);
    expect((await postJson("/auth/logout", { refresh_token: `rt_${"x".repeat(43)}` })).status).toBe(204);
  });

  it("refuses a body without a refresh token (422 naming the field)", async () => {
    const body = await expectProblem(await postJson("/auth/logout", {}), 422, "validation_failed");
    expect(body.errors?.map((error) => error.path)).toContain("body.refresh_token");
  });
});

describe("POST /auth/logout-all", () => {
  it("ends every session of the caller, the calling one included, and no one else's", async () => {
    const user = await createUser();
    const second = await login(user.email, user.password);
    const bystander = await createUser();
    const response = await postJson("/auth/logout-all", {}, { token: user.accessToken });
    expect(response.status).toBe(204);
    await expectRevoked(user.accessToken);
    await expectRevoked(second.access_token);
    await expectProblem(await postJson("/auth/refresh", { refresh_token: second.refresh_token }), 401, "invalid_refresh_token");
    const live = await env.DB.prepare("select count(*) as n from sessions where user_id = ? and ended_at is null").bind(user.id).first<{ n: number }>();
    expect(live?.n).toBe(0);
    expect((await authedFetch("/users/me", bystander.accessToken)).status).toBe(200);
  });

  it("needs a bearer token", async () => {
    const response = await postJson("/auth/logout-all", {});
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
    await expectProblem(response, 401, "unauthorized");
  });
});

describe("account state is checked on every request", () => {
  it("a disabled user's access token is refused on the very next request, and so is refresh", async () => {
    const user = await createUser();
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(user.id).run();
    await expectRevoked(user.accessToken);
    await expectProblem(await postJson("/auth/refresh", { refresh_token: user.refreshToken }), 401, "invalid_refresh_token");
    // Re-enabling restores the (unexpired) session: disabling is a state, not a logout.
    await env.DB.prepare("update users set is_active = 1 where id = ?").bind(user.id).run();
    expect((await authedFetch("/users/me", user.accessToken)).status).toBe(200);
  });

  it("a deleted user's access and refresh tokens are refused on the very next request", async () => {
    const user = await createUser();
    await env.DB.prepare("delete from users where id = ?").bind(user.id).run();
    await expectRevoked(user.accessToken);
    await expectProblem(await postJson("/auth/refresh", { refresh_token: user.refreshToken }), 401, "invalid_refresh_token");
  });

  it("a session past its absolute lifetime is refused even with an unexpired access token", async () => {
    const user = await createUser();
    await env.DB.prepare("update sessions set expires_at = ? where id = ?").bind(Date.now() - 1_000, sessionOf(user.accessToken)).run();
    await expectRevoked(user.accessToken);
  });

  it("a role removed in D1 takes its permissions away at once (403, not a stale token)", async () => {
    const user = await createUser();
    await env.DB.prepare("delete from user_roles where user_id = ?").bind(user.id).run();
    const response = await authedFetch("/users/me", user.accessToken);
    await expectProblem(response, 403, "forbidden");
  });
});

describe("GET /auth/sessions", () => {
  it("lists only the caller's live sessions, newest first, with `current` on the caller's own", async () => {
    const user = await createUser();
    const second = await postJson("/auth/login", { email: user.email, password: user.password }, { headers: { "User-Agent": "Second-Device/2.0" } });
    const secondTokens = await second.json<{ access_token: string; refresh_token: string }>();
    const ended = await login(user.email, user.password);
    await postJson("/auth/logout", { refresh_token: ended.refresh_token });
    const bystander = await createUser();

    const response = await authedFetch("/auth/sessions", secondTokens.access_token);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const { items } = await response.json<{ items: SessionItem[] }>();
    expect(items.map((item) => item.id).sort()).toEqual([sessionOf(user.accessToken), sessionOf(secondTokens.access_token)].sort());
    expect(items.map((item) => item.id)).not.toContain(sessionOf(bystander.accessToken));
    expect(items.map((item) => item.id)).not.toContain(sessionOf(ended.access_token));
    const current = items.filter((item) => item.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ id: sessionOf(secondTokens.access_token), user_agent: "Second-Device/2.0" });
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(["country", "created_at", "current", "expires_at", "id", "last_used_at", "user_agent"]);
      expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
    }
    expect(items[0]!.created_at >= items[1]!.created_at).toBe(true);
    // The same list from the other session marks the other one current.
    const fromFirst = await (await authedFetch("/auth/sessions", user.accessToken)).json<{ items: SessionItem[] }>();
    expect(fromFirst.items.find((item) => item.current)?.id).toBe(sessionOf(user.accessToken));
  });

  it("needs a bearer token", async () => {
    const response = await authedFetch("/auth/sessions", "not-a-token-at-all");
    await expectProblem(response, 401, "unauthorized");
  });
});

describe("DELETE /auth/sessions/{id}", () => {
  it("ends one of the caller's other sessions: 204, and that session's tokens die", async () => {
    const user = await createUser();
    const other = await login(user.email, user.password);
    const response = await authedFetch(`/auth/sessions/${sessionOf(other.access_token)}`, user.accessToken, { method: "DELETE" });
    expect(response.status).toBe(204);
    await expectRevoked(other.access_token);
    await expectProblem(await postJson("/auth/refresh", { refresh_token: other.refresh_token }), 401, "invalid_refresh_token");
    expect(await sessionRow(sessionOf(other.access_token))).toMatchObject({ end_reason: "ended_by_user" });
    expect((await authedFetch("/users/me", user.accessToken)).status).toBe(200);
  });

  it("answers 404 for another user's session and leaves it alive", async () => {
    const user = await createUser();
    const victim = await createUser();
    const response = await authedFetch(`/auth/sessions/${sessionOf(victim.accessToken)}`, user.accessToken, { method: "DELETE" });
    await expectProblem(response, 404, "not_found");
    expect((await authedFetch("/users/me", victim.accessToken)).status).toBe(200);
    expect(await sessionRow(sessionOf(victim.accessToken))).toMatchObject({ ended_at: null });
  });

  it("answers 404 for an unknown or already ended session, 422 for a malformed id", async () => {
    const user = await createUser();
    const other = await login(user.email, user.password);
    const path = `/auth/sessions/${sessionOf(other.access_token)}`;
    expect((await authedFetch(path, user.accessToken, { method: "DELETE" })).status).toBe(204);
    await expectProblem(await authedFetch(path, user.accessToken, { method: "DELETE" }), 404, "not_found");
    await expectProblem(await authedFetch(`/auth/sessions/${crypto.randomUUID()}`, user.accessToken, { method: "DELETE" }), 404, "not_found");
    await expectProblem(await authedFetch(`${API}/auth/sessions/..%2F..%2Fusers`, user.accessToken, { method: "DELETE" }), 422, "validation_failed");
  });

  it("can end the caller's own current session", async () => {
    const user = await createUser();
    expect((await authedFetch(`/auth/sessions/${sessionOf(user.accessToken)}`, user.accessToken, { method: "DELETE" })).status).toBe(204);
    await expectRevoked(user.accessToken);
  });
});
