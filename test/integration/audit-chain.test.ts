import { env, runDurableObjectAlarm } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { GENESIS_HASH, writeWithAudit } from "../../src/lib/audit";
import type { AuditAction } from "../../src/lib/audit-actions";
import { updateProfileNames } from "../../src/modules/users/users.service";
import { sealAuditLog, sealerStub } from "../helpers/audit";
import { login as loginService } from "../../src/modules/auth/auth.service";
import { createUser, uniqueEmail } from "../helpers/auth";
import { serviceDeps } from "../helpers/services";
import { call, expectJson } from "../helpers/rbac";

interface Verification {
  intact: boolean;
  checked: number;
  unsealed: number;
  head_seq: number | null;
  first_broken_seq?: number;
}

/** A verified user with the default role, inserted directly (fast). */
async function seedUser(index: number): Promise<{ id: string }> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      "insert into users (id, email, password_hash, first_name, last_name, email_verified_at, is_active, is_approved, password_changed_at, created_at, updated_at) values (?, ?, 'x', 'Seed', 'User', ?, 1, 1, ?, ?, ?)",
    ).bind(id, `chain-${index}-${id}@example.com`, now, now, now, now),
    env.DB.prepare("insert into user_roles (user_id, role_id, created_at) select ?, id, ? from roles where name = 'user'").bind(id, now),
  ]);
  return { id };
}

describe("audit chain under concurrency (single sealer)", () => {
  it("200 concurrent audited writes of different users all succeed, each with its own audit row, and the chain verifies once sealed", async () => {
    const db = createDb(env.DB);
    const seeded = await Promise.all(Array.from({ length: 200 }, (_, index) => seedUser(index)));
    // The service every PATCH /users/me runs, 200 at once against one D1: before the single sealer
    // these writers raced for the chain head and most of them answered 503.
    const results = await Promise.allSettled(
      seeded.map((user, index) => updateProfileNames(db, { userId: user.id, requestId: `concurrent-${index}` }, user.id, { first_name: `Concurrent${index}` })),
    );
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);

    // Atomic: every change is there, and exactly one audit row per change.
    const ids = JSON.stringify(seeded.map((user) => user.id));
    const changed = await env.DB.prepare("select count(*) as n from users where id in (select value from json_each(?)) and first_name like 'Concurrent%'").bind(ids).first<{ n: number }>();
    expect(changed!.n).toBe(200);
    const events = await env.DB.prepare("select count(*) as n from audit_logs where action = 'user.profile_updated' and target_id in (select value from json_each(?))").bind(ids).first<{ n: number }>();
    expect(events!.n).toBe(200);

    const admin = await createUser({ roles: ["admin"] });
    await sealAuditLog();
    const verification = await expectJson<Verification>(await call(admin.accessToken, "GET", "/audit-logs/verify"), 200);
    const total = (await env.DB.prepare("select count(*) as n from audit_logs").first<{ n: number }>())!.n;
    expect(verification).toMatchObject({ intact: true, unsealed: 0, checked: total });
  }, 120_000);

  it("40 concurrent failed logins (different emails and IPs) all fail as 401 invalid_credentials, none 503", async () => {
    // The login service itself (each one writes its user.login_failed row), so that only the audit
    // writes contend, not the HTTP time budget of a loaded test machine.
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, index) => loginService({ ...serviceDeps(), actor: { ip: `203.0.113.${index + 1}` } }, uniqueEmail(`flood${index}`), "wrong password 123")),
    );
    expect(results.map((result) => (result.status === "rejected" ? (result.reason as { code?: string }).code : "fulfilled"))).toEqual(Array(40).fill("invalid_credentials"));
    const failures = await env.DB.prepare("select count(*) as n from audit_logs where action = 'user.login_failed' and actor_ip like '203.0.113.%'").first<{ n: number }>();
    expect(failures!.n).toBeGreaterThanOrEqual(40);
  }, 60_000);

  it("seals rows on its own shortly after the write (the sealer's alarm), without anyone calling it", async () => {
    const user = await createUser();
    const response = await call(user.accessToken, "PATCH", "/users/me", { last_name: "Sealed" });
    expect(response.status).toBe(200);
    let row: { hash: string | null } | null = null;
    for (let attempt = 0; attempt < 100; attempt++) {
      row = await env.DB.prepare("select hash from audit_logs where action = 'user.profile_updated' and target_id = ?").bind(user.id).first<{ hash: string | null }>();
      if (row?.hash) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
  }, 30_000);

  it("keeps a change and its audit row atomic: a failed change writes no row, and the row is written unsealed", async () => {
    const db = createDb(env.DB);
    const user = await createUser();
    const before = (await env.DB.prepare("select count(*) as n from audit_logs").first<{ n: number }>())!.n;
    // The second statement violates the unique email index: the whole batch must roll back.
    const other = await createUser();
    await expect(
      writeWithAudit(db, { userId: user.id }, [{ action: "test.atomic" as AuditAction, targetType: "user", targetId: user.id }], () => [
        db.update(users).set({ firstName: "Changed" }).where(eq(users.id, user.id)),
        db.update(users).set({ email: other.email }).where(eq(users.id, user.id)),
      ]),
    ).rejects.toThrow();
    const after = (await env.DB.prepare("select count(*) as n from audit_logs where action = 'test.atomic'").first<{ n: number }>())!.n;
    expect(after).toBe(0);
    expect((await env.DB.prepare("select first_name from users where id = ?").bind(user.id).first<{ first_name: string }>())!.first_name).toBe("Test");
    expect((await env.DB.prepare("select count(*) as n from audit_logs").first<{ n: number }>())!.n).toBeGreaterThanOrEqual(before);

    await writeWithAudit(db, { userId: user.id }, [{ action: "test.atomic" as AuditAction, targetType: "user", targetId: user.id }], () => [
      db.update(users).set({ firstName: "Changed" }).where(eq(users.id, user.id)),
    ]);
    const row = await env.DB.prepare("select prev_hash, hash from audit_logs where action = 'test.atomic'").first<{ prev_hash: string | null; hash: string | null }>();
    expect(row).toEqual({ prev_hash: null, hash: null });
  }, 30_000);
});

describe("the triggers that keep the chain honest", () => {
  it("refuse an inserted row that claims to be sealed", async () => {
    await expect(
      env.DB.prepare("insert into audit_logs (id, created_at, action, prev_hash, hash) values (?, ?, 'forged', ?, ?)").bind(crypto.randomUUID(), Date.now(), GENESIS_HASH, GENESIS_HASH).run(),
    ).rejects.toThrow(/inserted unsealed/);
  });

  it("refuse sealing out of order, a forked link, and a change of content while sealing", async () => {
    // An earlier test's writes may have left the sealer's alarm pending; run it now so that no
    // seal can happen between our writes and our own seal below (on a slow CI machine it did).
    await runDurableObjectAlarm(sealerStub());
    await sealAuditLog();
    const db = createDb(env.DB);
    await writeWithAudit(db, {}, [{ action: "test.order.a" as AuditAction }, { action: "test.order.b" as AuditAction }]);
    const [first, second] = (await env.DB.prepare("select seq from audit_logs where action like 'test.order.%' order by seq").all<{ seq: number }>()).results;
    const head = await env.DB.prepare("select hash from audit_logs where seq < ? and hash is not null order by seq desc limit 1").bind(first!.seq).first<{ hash: string }>();
    const fake = "a".repeat(64);
    // The second row before the first one:
    await expect(env.DB.prepare("update audit_logs set prev_hash = ?, hash = ? where seq = ?").bind(fake, fake, second!.seq).run()).rejects.toThrow(/append-only/);
    // The first row linked to something other than the head (a fork):
    await expect(env.DB.prepare("update audit_logs set prev_hash = ?, hash = ? where seq = ?").bind(fake, fake, first!.seq).run()).rejects.toThrow(/append-only/);
    // Content changed while sealing:
    await expect(
      env.DB.prepare("update audit_logs set prev_hash = ?, hash = ?, action = 'x' where seq = ?").bind(head?.hash ?? GENESIS_HASH, fake, first!.seq).run(),
    ).rejects.toThrow(/append-only/);
    const result = await sealAuditLog();
    expect(result.sealed).toBeGreaterThanOrEqual(2);
    expect(result.remaining).toBe(0);
    const sealed = await env.DB.prepare("select count(*) as n from audit_logs where action like 'test.order.%' and hash is not null").first<{ n: number }>();
    expect(sealed?.n).toBe(2);
  });
});
