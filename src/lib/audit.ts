import type { BatchItem } from "drizzle-orm/batch";
import { desc } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditLogs } from "../db/schema";
import type { AuditAction } from "./audit-actions";
import { newId } from "./ids";
import { sha256Hex } from "./tokens";

/** The hash the first row of the chain points back to. */
export const GENESIS_HASH = "0".repeat(64);
/** Raised by the `audit_logs_chain_guard` trigger when another writer moved the chain head first. */
const CHAIN_CONFLICT = "audit_chain_conflict";
const MAX_ATTEMPTS = 5;

export interface AuditEvent {
  action: AuditAction;
  actorUserId?: string | null;
  sessionId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  /** Before/after of the change. Never secrets: callers pass names and flags, not hashes or tokens. */
  changes?: Record<string, unknown> | null;
}

/** Who is acting, taken from the request once. */
export interface AuditActor {
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

export type AuditRow = typeof auditLogs.$inferInsert;

/** The exact bytes a row's hash covers; verification recomputes it from the stored columns. */
export function canonicalAuditContent(row: Omit<AuditRow, "seq" | "hash">): string {
  return JSON.stringify([
    row.id,
    row.createdAt,
    row.action,
    row.actorUserId ?? null,
    row.actorIp ?? null,
    row.actorUserAgent ?? null,
    row.requestId ?? null,
    row.sessionId ?? null,
    row.targetType ?? null,
    row.targetId ?? null,
    row.changes ?? null,
    row.prevHash,
  ]);
}

async function chainRows(db: Database, actor: AuditActor, events: AuditEvent[], now: number): Promise<AuditRow[]> {
  const head = await db.select({ hash: auditLogs.hash }).from(auditLogs).orderBy(desc(auditLogs.seq)).limit(1).get();
  let prevHash = head?.hash ?? GENESIS_HASH;
  const rows: AuditRow[] = [];
  for (const event of events) {
    const row = {
      id: newId(now),
      createdAt: now,
      action: event.action,
      actorUserId: event.actorUserId === undefined ? (actor.userId ?? null) : event.actorUserId,
      actorIp: actor.ip ?? null,
      actorUserAgent: actor.userAgent?.slice(0, 512) ?? null,
      requestId: actor.requestId ?? null,
      sessionId: event.sessionId ?? null,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      changes: event.changes ? JSON.stringify(event.changes) : null,
      prevHash,
    };
    const hash = await sha256Hex(canonicalAuditContent(row));
    rows.push({ ...row, hash });
    prevHash = hash;
  }
  return rows;
}

/**
 * Runs `changes` and the audit rows for `events` in ONE D1 batch (a transaction): an event is
 * never lost and never recorded for a change that failed. The rows extend the hash chain; if a
 * concurrent writer extended it first, the trigger aborts the batch and it is retried.
 *
 * @example
 * await writeWithAudit(db, actor, [{ action: "role.created", targetType: "role", targetId: id }],
 *   () => [db.insert(roles).values(row)]);
 */
export async function writeWithAudit(
  db: Database,
  actor: AuditActor,
  events: AuditEvent[],
  changes: () => BatchItem<"sqlite">[] = () => [],
  now = Date.now(),
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const rows = await chainRows(db, actor, events, now);
    const statements = [...changes(), ...rows.map((row) => db.insert(auditLogs).values(row))];
    if (statements.length === 0) return;
    try {
      await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
      return;
    } catch (error) {
      const message = `${error instanceof Error ? error.message : ""} ${error instanceof Error && error.cause instanceof Error ? error.cause.message : ""}`;
      if (!message.includes(CHAIN_CONFLICT) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** Records events that accompany no other write (e.g. a failed login). */
export function recordAudit(db: Database, actor: AuditActor, ...events: AuditEvent[]): Promise<void> {
  return writeWithAudit(db, actor, events);
}
