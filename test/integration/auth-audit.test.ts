import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { canonicalAuditContent, GENESIS_HASH } from "../../src/lib/audit";
import { sha256Hex } from "../../src/lib/tokens";
import { sealAuditLog } from "../helpers/audit";
import { authedFetch, createUser, login, postJson } from "../helpers/auth";

interface AuditRow {
  seq: number;
  id: string;
  created_at: number;
  action: string;
  actor_user_id: string | null;
  actor_ip: string | null;
  actor_user_agent: string | null;
  request_id: string | null;
  session_id: string | null;
  target_type: string | null;
  target_id: string | null;
  changes: string | null;
  prev_hash: string;
  hash: string;
}

const sessionOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

async function eventsFor(action: string, sessionId: string): Promise<AuditRow[]> {
  return (await env.DB.prepare("select * from audit_logs where action = ? and session_id = ?").bind(action, sessionId).all<AuditRow>()).results;
}

describe("security events in audit_logs", () => {
  it("logout records session.ended with the user, session, IP and user agent", async () => {
    const user = await createUser();
    const response = await postJson("/auth/logout", { refresh_token: user.refreshToken }, { ip: "203.0.113.61", headers: { "User-Agent": "Logout/1.0" } });
    expect(response.status).toBe(204);
    const [event] = await eventsFor("session.ended", sessionOf(user.accessToken));
    expect(event).toMatchObject({ actor_user_id: user.id, actor_ip: "203.0.113.61", actor_user_agent: "Logout/1.0", target_type: "session", target_id: sessionOf(user.accessToken) });
    expect(JSON.parse(event!.changes!)).toMatchObject({ reason: "logout", sessions_ended: 1 });
    expect(event!.request_id).toBe(response.headers.get("X-Request-Id"));
  });

  it("ending one session through DELETE /auth/sessions/{id} records session.ended", async () => {
    const user = await createUser();
    const other = await login(user.email, user.password);
    const response = await authedFetch(`/auth/sessions/${sessionOf(other.access_token)}`, user.accessToken, {
      method: "DELETE",
      headers: { "CF-Connecting-IP": "203.0.113.62", "User-Agent": "Sessions/1.0" },
    });
    expect(response.status).toBe(204);
    const [event] = await eventsFor("session.ended", sessionOf(other.access_token));
    expect(event).toMatchObject({ actor_user_id: user.id, actor_ip: "203.0.113.62", actor_user_agent: "Sessions/1.0", target_id: sessionOf(other.access_token) });
    expect(JSON.parse(event!.changes!)).toMatchObject({ reason: "ended_by_user", sessions_ended: 1 });
  });

  it("logout-all records user.logout_all with the calling session and how many sessions ended", async () => {
    const user = await createUser();
    await login(user.email, user.password);
    await login(user.email, user.password);
    const response = await postJson("/auth/logout-all", {}, { token: user.accessToken, ip: "203.0.113.63", headers: { "User-Agent": "LogoutAll/1.0" } });
    expect(response.status).toBe(204);
    const [event] = await eventsFor("user.logout_all", sessionOf(user.accessToken));
    expect(event).toMatchObject({ actor_user_id: user.id, actor_ip: "203.0.113.63", actor_user_agent: "LogoutAll/1.0", target_type: "user", target_id: user.id });
    expect(JSON.parse(event!.changes!)).toMatchObject({ reason: "logout_all", sessions_ended: 3 });
  });

  it("never stores secrets: no password, refresh token or token hash appears in any row", async () => {
    const user = await createUser();
    const pair = await (await postJson("/auth/refresh", { refresh_token: user.refreshToken })).json<{ refresh_token: string }>();
    await postJson("/auth/logout", { refresh_token: pair.refresh_token });
    const { results } = await env.DB.prepare("select * from audit_logs").all<AuditRow>();
    const dump = JSON.stringify(results);
    for (const secret of [user.password, user.refreshToken, pair.refresh_token, await sha256Hex(pair.refresh_token), user.accessToken]) {
      expect(dump).not.toContain(secret);
    }
  });
});

describe("concurrent security events", () => {
  it("answers five simultaneous logins of one user with five sessions (no collision, no 500) and keeps the audit chain intact", async () => {
    const user = await createUser();
    const responses = await Promise.all(Array.from({ length: 5 }, () => postJson("/auth/login", { email: user.email, password: user.password })));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const sessions = new Set(await Promise.all(responses.map(async (response) => sessionOf((await response.json<{ access_token: string }>()).access_token))));
    expect(sessions.size).toBe(5);

    await sealAuditLog();
    const { results } = await env.DB.prepare("select * from audit_logs where hash is not null order by seq").all<AuditRow>();
    let previous = GENESIS_HASH;
    for (const row of results) {
      expect(row.prev_hash, `row ${row.seq}`).toBe(previous);
      const { seq: _seq, hash, ...content } = row;
      const recomputed = await sha256Hex(
        canonicalAuditContent({
          id: content.id,
          createdAt: content.created_at,
          action: content.action,
          actorUserId: content.actor_user_id,
          actorIp: content.actor_ip,
          actorUserAgent: content.actor_user_agent,
          requestId: content.request_id,
          sessionId: content.session_id,
          targetType: content.target_type,
          targetId: content.target_id,
          changes: content.changes,
          prevHash: content.prev_hash,
        }),
      );
      expect(hash, `row ${row.seq}`).toBe(recomputed);
      previous = hash;
    }
    const logins = results.filter((row) => row.action === "user.login_succeeded" && row.actor_user_id === user.id);
    expect(logins.length).toBe(6);
  });
});
