import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalAuditContent } from "../../src/lib/audit";
import { sha256Hex } from "../../src/lib/tokens";
import { sealAuditLog } from "../helpers/audit";
import { createUser, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { call, createAdmin, expectJson, newUserBody } from "../helpers/rbac";

interface Entry {
  seq: number;
  action: string;
  actor_user_id: string | null;
  actor_ip: string | null;
  request_id: string | null;
  target_id: string | null;
  created_at: string;
  changes: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}
interface Page {
  items: Entry[];
  next_cursor: string | null;
}
interface Verification {
  intact: boolean;
  checked: number;
  first_broken_seq?: number;
  head_seq: number | null;
  head_hash: string | null;
}

let admin: TestUser;
let manager: TestUser;
let createdId: string;

beforeAll(async () => {
  admin = await createAdmin();
  manager = await createUser({ roles: ["manager"] });
  // A few admin writes of different kinds.
  const created = await expectJson<{ id: string }>(await call(admin.accessToken, "POST", "/users", newUserBody({ roles: ["guest"] })), 201);
  createdId = created.id;
  await expectJson(await call(admin.accessToken, "PUT", `/users/${createdId}/roles`, { roles: ["user"] }), 200);
  await expectJson(await call(manager.accessToken, "PATCH", `/users/${createdId}`, { role_title: "Analyst" }), 200);
  await expectJson(await call(admin.accessToken, "POST", "/roles", { name: "analyst", permissions: ["audit:read"] }), 201);
});

const rowCount = async () => (await env.DB.prepare("select count(*) as n from audit_logs").first<{ n: number }>())!.n;

describe("GET /audit-logs", () => {
  it("lists events newest first, page by page, without repeats", async () => {
    const seen: Entry[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await expectJson<Page>(await call(admin.accessToken, "GET", `/audit-logs?limit=4${cursor ? `&cursor=${cursor}` : ""}`), 200);
      expect(page.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    const { results } = await env.DB.prepare("select seq from audit_logs order by seq desc").all<{ seq: number }>();
    expect(seen.map((entry) => entry.seq)).toEqual(results.map((row) => row.seq));
  });

  it("records who, from where, what and the before/after of an admin write", async () => {
    const page = await expectJson<Page>(await call(admin.accessToken, "GET", `/audit-logs?action=user.roles_replaced&target=${createdId}`), 200);
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      action: "user.roles_replaced",
      actor_user_id: admin.id,
      target_id: createdId,
      changes: { before: ["guest"], after: ["user"] },
    });
    expect(page.items[0]!.request_id).toEqual(expect.any(String));
    expect(page.items[0]!.actor_ip).toEqual(expect.any(String));
  });

  it("filters by actor, target, action and time", async () => {
    const byManager = await expectJson<Page>(await call(admin.accessToken, "GET", `/audit-logs?actor=${manager.id}&limit=100`), 200);
    expect(byManager.items.length).toBeGreaterThan(0);
    expect(byManager.items.every((entry) => entry.actor_user_id === manager.id)).toBe(true);
    expect(byManager.items.map((entry) => entry.action)).toContain("user.updated");

    const aboutCreated = await expectJson<Page>(await call(admin.accessToken, "GET", `/audit-logs?target=${createdId}&limit=100`), 200);
    expect(aboutCreated.items.map((entry) => entry.action)).toEqual(["user.updated", "user.roles_replaced", "user.created"]);

    const roleEvents = await expectJson<Page>(await call(admin.accessToken, "GET", "/audit-logs?action=role.created"), 200);
    expect(roleEvents.items.map((entry) => entry.changes?.after)).toEqual([{ name: "analyst", description: "", permissions: ["audit:read"] }]);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await expectJson<Page>(await call(admin.accessToken, "GET", `/audit-logs?since=${future}`), 200)).items).toEqual([]);
    const past = await expectJson<Page>(await call(admin.accessToken, "GET", `/audit-logs?until=${future}&since=2020-01-01T00:00:00Z&limit=1`), 200);
    expect(past.items).toHaveLength(1);
    expect((await expectJson<Page>(await call(admin.accessToken, "GET", "/audit-logs?until=2020-01-01T00:00:00Z"), 200)).items).toEqual([]);
  });

  it("refuses malformed filters and cursors with 422", async () => {
    for (const query of ["actor=nope", "since=yesterday", "until=2024-13-01T00:00:00Z", "action=DROP%20TABLE", "cursor=e30", "limit=1000"]) {
      await expectProblem(await call(admin.accessToken, "GET", `/audit-logs?${query}`), 422, "validation_failed");
    }
  });

  it("never contains secrets", async () => {
    const { results } = await env.DB.prepare("select changes from audit_logs where changes is not null").all<{ changes: string }>();
    for (const { changes } of results) expect(changes).not.toMatch(/\$argon2|password_hash|refresh_token|rt_[A-Za-z0-9_-]{20}/);
  });

  it("needs audit:read", async () => {
    const user = await createUser();
    await expectProblem(await call(user.accessToken, "GET", "/audit-logs"), 403, "forbidden");
    await expectProblem(await call(user.accessToken, "GET", "/audit-logs/verify"), 403, "forbidden");
  });
});

describe("GET /audit-logs/verify", () => {
  it("reports an intact chain covering every row after admin writes", async () => {
    await sealAuditLog();
    const result = await expectJson<Verification>(await call(manager.accessToken, "GET", "/audit-logs/verify"), 200);
    const head = await env.DB.prepare("select seq, hash from audit_logs where hash is not null order by seq desc limit 1").first<{ seq: number; hash: string }>();
    const unsealed = (await env.DB.prepare("select count(*) as n from audit_logs where hash is null").first<{ n: number }>())!.n;
    expect(result).toMatchObject({ intact: true, checked: (await rowCount()) - unsealed, head_seq: head!.seq, head_hash: head!.hash, unsealed });
  });

  it("is append-only inside D1: updates and deletes are refused by triggers", async () => {
    await sealAuditLog();
    await expect(env.DB.prepare("update audit_logs set action = 'x' where seq = 1").run()).rejects.toThrow(/append-only/);
    // A sealed row cannot be resealed either.
    await expect(env.DB.prepare("update audit_logs set hash = prev_hash where seq = 1").run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("delete from audit_logs where seq = 1").run()).rejects.toThrow(/append-only/);
  });

  it("detects a row altered by someone with database access", async () => {
    const target = await env.DB.prepare("select seq from audit_logs where action = 'user.roles_replaced'").first<{ seq: number }>();
    await sealAuditLog();
    // An attacker with direct database access can drop the guard trigger first.
    await env.DB.prepare("drop trigger audit_logs_seal_only").run();
    await env.DB.prepare(`update audit_logs set changes = '{"before":["guest"],"after":["admin"]}' where seq = ?`).bind(target!.seq).run();
    const result = await expectJson<Verification>(await call(admin.accessToken, "GET", "/audit-logs/verify"), 200);
    expect(result).toMatchObject({ intact: false, first_broken_seq: target!.seq, checked: target!.seq });
  });

  it("detects a row recomputed to match but no longer linked (rewritten history)", async () => {
    await sealAuditLog();
    const broken = await env.DB.prepare("select seq from audit_logs where action = 'user.roles_replaced'").first<{ seq: number }>();
    // Even a forger who recomputes the row's own hash breaks the next row's link.
    const row = await env.DB.prepare("select * from audit_logs where seq = ?").bind(broken!.seq).first<Record<string, unknown>>();
    const content = {
      id: row!.id as string,
      createdAt: row!.created_at as number,
      action: row!.action as string,
      actorUserId: row!.actor_user_id as string | null,
      actorIp: row!.actor_ip as string | null,
      actorUserAgent: row!.actor_user_agent as string | null,
      requestId: row!.request_id as string | null,
      sessionId: row!.session_id as string | null,
      targetType: row!.target_type as string | null,
      targetId: row!.target_id as string | null,
      changes: row!.changes as string | null,
      prevHash: row!.prev_hash as string,
    };
    await env.DB.prepare("update audit_logs set hash = ? where seq = ?").bind(await sha256Hex(canonicalAuditContent(content)), broken!.seq).run();
    const result = await expectJson<Verification>(await call(admin.accessToken, "GET", "/audit-logs/verify"), 200);
    expect(result).toMatchObject({ intact: false, first_broken_seq: broken!.seq + 1 });
  });

  it("detects a deleted row by the broken link of the row after it", async () => {
    const { results } = await env.DB.prepare("select seq from audit_logs where seq < (select min(seq) from audit_logs where action = 'user.roles_replaced') order by seq limit 3")
      .all<{ seq: number }>();
    const [, victim, next] = results;
    await sealAuditLog();
    await env.DB.prepare("drop trigger audit_logs_no_delete").run();
    await env.DB.prepare("delete from audit_logs where seq = ?").bind(victim!.seq).run();
    const result = await expectJson<Verification>(await call(admin.accessToken, "GET", "/audit-logs/verify"), 200);
    expect(result).toMatchObject({ intact: false, first_broken_seq: next!.seq });
  });
});
