import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/tokens";
import { callApp, expectProblem } from "../helpers/app-env";
import { API, authedFetch, createUser, postJson } from "../helpers/auth";

interface TokenPair {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

const sessionOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

function refresh(refreshToken: string, client: { ip?: string; userAgent?: string } = {}): Promise<Response> {
  return postJson("/auth/refresh", { refresh_token: refreshToken }, { ip: client.ip, headers: client.userAgent ? { "User-Agent": client.userAgent } : {} });
}

async function refreshOk(refreshToken: string): Promise<TokenPair> {
  const response = await refresh(refreshToken);
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json();
}

/** Moves a token's rotation `ms` into the past, as if the grace period had elapsed. */
async function ageRotation(refreshToken: string, ms: number): Promise<void> {
  await env.DB.prepare("update refresh_tokens set used_at = used_at - ? where token_hash = ?").bind(ms, await sha256Hex(refreshToken)).run();
}

async function sessionRow(id: string) {
  return env.DB.prepare("select ended_at, end_reason, last_used_at, expires_at from sessions where id = ?")
    .bind(id)
    .first<{ ended_at: number | null; end_reason: string | null; last_used_at: number; expires_at: number }>();
}

describe("POST /auth/refresh: rotation", () => {
  it("returns a new pair, rotates the presented token out and stores only hashes", async () => {
    const user = await createUser();
    const response = await refresh(user.refreshToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const pair = await response.json<TokenPair>();
    expect(Object.keys(pair).sort()).toEqual(["access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type"]);
    expect(pair).toMatchObject({ token_type: "Bearer", expires_in: 900 });
    expect(pair.refresh_token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    expect(pair.refresh_token).not.toBe(user.refreshToken);
    expect(pair.refresh_expires_in).toBeGreaterThan(604_800 - 60);
    expect(pair.refresh_expires_in).toBeLessThanOrEqual(604_800);
    // Same session, new access token.
    expect(sessionOf(pair.access_token)).toBe(sessionOf(user.accessToken));
    expect(decodeJwt(pair.access_token).jti).not.toBe(decodeJwt(user.accessToken).jti);
    expect((await authedFetch("/users/me", pair.access_token)).status).toBe(200);

    const rows = await env.DB.prepare("select token_hash, used_at from refresh_tokens where session_id = ? order by created_at, id")
      .bind(sessionOf(user.accessToken))
      .all<{ token_hash: string; used_at: number | null }>();
    const byHash = new Map(rows.results.map((row) => [row.token_hash, row.used_at]));
    expect(byHash.get(await sha256Hex(user.refreshToken))).toEqual(expect.any(Number));
    expect(byHash.get(await sha256Hex(pair.refresh_token))).toBeNull();
    const plaintext = await env.DB.prepare("select count(*) as n from refresh_tokens where token_hash in (?, ?)").bind(user.refreshToken, pair.refresh_token).first<{ n: number }>();
    expect(plaintext?.n).toBe(0);
  });

  it("keeps rotating: each new token works once", async () => {
    const user = await createUser();
    let token = user.refreshToken;
    for (let round = 0; round < 4; round++) token = (await refreshOk(token)).refresh_token;
    expect((await refreshOk(token)).refresh_token).toMatch(/^rt_/);
  });

  it("never lets a refresh token outlive its session's absolute lifetime", async () => {
    const user = await createUser();
    await env.DB.prepare("update sessions set expires_at = ? where id = ?").bind(Date.now() + 120_000, sessionOf(user.accessToken)).run();
    const pair = await refreshOk(user.refreshToken);
    expect(pair.refresh_expires_in).toBeLessThanOrEqual(120);
  });

  it("lets one of 10 concurrent refreshes win; the losers (within grace) do not end the session", async () => {
    const user = await createUser();
    const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(user.refreshToken)));
    const winners = responses.filter((response) => response.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of responses.filter((response) => response.status !== 200)) await expectProblem(loser, 401, "invalid_refresh_token");
    const pair = await winners[0]!.json<TokenPair>();
    const live = await env.DB.prepare("select count(*) as n from refresh_tokens where session_id = ? and used_at is null").bind(sessionOf(user.accessToken)).first<{ n: number }>();
    expect(live?.n).toBe(1);
    expect((await authedFetch("/users/me", pair.access_token)).status).toBe(200);
    await refreshOk(pair.refresh_token);
  });

  it("refuses a missing or empty refresh token with 422", async () => {
    await expectProblem(await postJson("/auth/refresh", {}), 422, "validation_failed");
    await expectProblem(await postJson("/auth/refresh", { refresh_token: "" }), 422, "validation_failed");
    await expectProblem(await postJson("/auth/refresh", { refresh_token: "x", extra: 1 }), 422, "validation_failed");
  });

  it("refuses an unknown token with 401", async () => {
    await expectProblem(await refresh(`rt_${"A".repeat(43)}`), 401, "invalid_refresh_token");
  });
});

describe("POST /auth/refresh: reuse of a rotated-out token", () => {
  it("within REFRESH_REUSE_GRACE: 401, but the session is kept and the newest token still works", async () => {
    const user = await createUser();
    const pair = await refreshOk(user.refreshToken);
    const racing = await refresh(user.refreshToken);
    await expectProblem(racing, 401, "invalid_refresh_token");
    expect(await sessionRow(sessionOf(user.accessToken))).toMatchObject({ ended_at: null });
    expect((await authedFetch("/users/me", pair.access_token)).status).toBe(200);
    await refreshOk(pair.refresh_token);
    const audit = await env.DB.prepare("select count(*) as n from audit_logs where action = 'session.reuse_detected' and session_id = ?").bind(sessionOf(user.accessToken)).first<{ n: number }>();
    expect(audit?.n).toBe(0);
  });

  it("after the grace period: ends the whole session and records session.reuse_detected", async () => {
    const user = await createUser();
    const pair = await refreshOk(user.refreshToken);
    await ageRotation(user.refreshToken, 11_000);
    const sessionId = sessionOf(user.accessToken);

    const reuse = await refresh(user.refreshToken, { ip: "203.0.113.77", userAgent: "Thief/1.0" });
    await expectProblem(reuse, 401, "invalid_refresh_token");
    expect(await sessionRow(sessionId)).toMatchObject({ ended_at: expect.any(Number), end_reason: "refresh_token_reuse" });
    // Every token of the family is dead: the legitimate client's newest ones included.
    await expectProblem(await refresh(pair.refresh_token), 401, "invalid_refresh_token");
    await expectProblem(await authedFetch("/users/me", pair.access_token), 401, "unauthorized");
    await expectProblem(await authedFetch("/users/me", user.accessToken), 401, "unauthorized");

    const event = await env.DB.prepare("select * from audit_logs where action = 'session.reuse_detected' and session_id = ?")
      .bind(sessionId)
      .first<{ actor_ip: string; actor_user_agent: string; target_type: string; target_id: string; changes: string }>();
    expect(event).toMatchObject({ actor_ip: "203.0.113.77", actor_user_agent: "Thief/1.0", target_type: "session", target_id: sessionId });
    expect(JSON.parse(event!.changes)).toMatchObject({ reason: "refresh_token_reuse", sessions_ended: 1 });
  });

  it("honours REFRESH_REUSE_GRACE=0: an immediate reuse already ends the session", async () => {
    const user = await createUser();
    const request = (token: string) =>
      callApp(`${API}/auth/refresh`, { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.9" }, body: JSON.stringify({ refresh_token: token }) }, { env: { REFRESH_REUSE_GRACE: "0" } });
    const first = await request(user.refreshToken);
    expect(first.status).toBe(200);
    const pair = await first.json<TokenPair>();
    await ageRotation(user.refreshToken, 5);
    await expectProblem(await request(user.refreshToken), 401, "invalid_refresh_token");
    expect(await sessionRow(sessionOf(user.accessToken))).toMatchObject({ end_reason: "refresh_token_reuse" });
    await expectProblem(await request(pair.refresh_token), 401, "invalid_refresh_token");
  });
});

describe("POST /auth/refresh: expiry and account state", () => {
  it("refuses a refresh token past its idle expiry", async () => {
    const user = await createUser();
    await env.DB.prepare("update refresh_tokens set expires_at = ? where token_hash = ?").bind(Date.now() - 1_000, await sha256Hex(user.refreshToken)).run();
    await expectProblem(await refresh(user.refreshToken), 401, "invalid_refresh_token");
  });

  it("refuses a session past its absolute lifetime", async () => {
    const user = await createUser();
    await env.DB.prepare("update sessions set expires_at = ? where id = ?").bind(Date.now() - 1_000, sessionOf(user.accessToken)).run();
    await expectProblem(await refresh(user.refreshToken), 401, "invalid_refresh_token");
  });

  it("refuses a disabled user, and does not rotate the token", async () => {
    const user = await createUser();
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(user.id).run();
    await expectProblem(await refresh(user.refreshToken), 401, "invalid_refresh_token");
    const row = await env.DB.prepare("select used_at from refresh_tokens where token_hash = ?").bind(await sha256Hex(user.refreshToken)).first<{ used_at: number | null }>();
    expect(row?.used_at).toBeNull();
  });

  it("refuses a refresh token of an ended session", async () => {
    const user = await createUser();
    expect((await postJson("/auth/logout", { refresh_token: user.refreshToken })).status).toBe(204);
    await expectProblem(await refresh(user.refreshToken), 401, "invalid_refresh_token");
  });
});
