import type { BatchItem } from "drizzle-orm/batch";
import { and, asc, count, desc, eq, isNotNull, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditLogs } from "../db/schema";
import type { AuditAction } from "./audit-actions";
import { newId } from "./ids";
import { sha256Hex } from "./tokens";

/** The hash the first row of the chain points back to. */
export const GENESIS_HASH = "0".repeat(64);

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
  /** Our request id (never the client's X-Request-Id: that one is not ours to vouch for). */
  requestId?: string | null;
  /** Called after audit rows were committed, so the sealer gets to them (see requestAuditSeal). */
  onWritten?: () => void;
}

export type AuditRow = typeof auditLogs.$inferInsert;

/** The exact bytes a row's hash covers; verification recomputes it from the stored columns. */
export function canonicalAuditContent(row: Omit<AuditRow, "seq" | "hash" | "prevHash"> & { prevHash: string }): string {
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

function unsealedRows(actor: AuditActor, events: AuditEvent[], now: number): AuditRow[] {
  return events.map((event) => ({
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
    prevHash: null,
    hash: null,
  }));
}

/**
 * Runs `changes` and the audit rows for `events` in ONE D1 batch (a transaction): an event is
 * never lost and never recorded for a change that failed. The rows are written unsealed, so no
 * writer reads or waits for the chain head: concurrent audited writes never conflict. The single
 * sealer (src/durable-objects/audit-sealer.ts) links them into the hash chain shortly after.
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
  const rows = unsealedRows(actor, events, now);
  const statements = [...changes(), ...rows.map((row) => db.insert(auditLogs).values(row))];
  if (statements.length === 0) return;
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  if (rows.length > 0) actor.onWritten?.();
}

/** Records events that accompany no other write (e.g. a failed login). */
export function recordAudit(db: Database, actor: AuditActor, ...events: AuditEvent[]): Promise<void> {
  return writeWithAudit(db, actor, events);
}

/** Rows sealed per D1 batch: one update each, checked by the audit_logs_seal_only trigger. */
const SEAL_CHUNK = 100;

export interface SealResult {
  /** Rows sealed by this call. */
  sealed: number;
  /** Unsealed rows left (more than one call's budget arrived). */
  remaining: number;
  headSeq: number | null;
}

/**
 * Seals unsealed audit rows in seq order: each gets `prev_hash` (its predecessor's hash) and its
 * own `hash`. Only the sealer object calls this, so there is exactly one writer of the chain; the
 * trigger audit_logs_seal_only would refuse a second one's out-of-order or forked seal anyway.
 * Seq order is commit order (D1 runs one transaction at a time), so a row never appears behind
 * the head after the head was sealed.
 */
export async function sealAuditChain(db: Database, maxRows = 2_000): Promise<SealResult> {
  let sealed = 0;
  const head = await db.select({ seq: auditLogs.seq, hash: auditLogs.hash }).from(auditLogs).where(isNotNull(auditLogs.hash)).orderBy(desc(auditLogs.seq)).limit(1).get();
  let previous = head?.hash ?? GENESIS_HASH;
  let headSeq = head?.seq ?? null;
  while (sealed < maxRows) {
    const rows = await db.select().from(auditLogs).where(isNull(auditLogs.hash)).orderBy(asc(auditLogs.seq)).limit(SEAL_CHUNK).all();
    if (rows.length === 0) return { sealed, remaining: 0, headSeq };
    const updates: BatchItem<"sqlite">[] = [];
    for (const row of rows) {
      const { seq, hash: _hash, prevHash: _prev, ...content } = row;
      const hash = await sha256Hex(canonicalAuditContent({ ...content, prevHash: previous }));
      updates.push(db.update(auditLogs).set({ prevHash: previous, hash }).where(and(eq(auditLogs.seq, seq), isNull(auditLogs.hash))));
      previous = hash;
      headSeq = seq;
    }
    await db.batch(updates as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    sealed += rows.length;
  }
  const left = await db.select({ n: count() }).from(auditLogs).where(isNull(auditLogs.hash)).get();
  return { sealed, remaining: left?.n ?? 0, headSeq };
}
