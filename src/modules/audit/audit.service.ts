import { and, asc, desc, eq, gt, gte, lt, type SQL } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import { auditLogs } from "../../db/schema";
import { canonicalAuditContent, GENESIS_HASH } from "../../lib/audit";
import type { AuditAction } from "../../lib/audit-actions";
import { decodeCursor, toPage } from "../../lib/pagination";
import { sha256Hex } from "../../lib/tokens";
import type { AuditEntry, AuditQuery, AuditVerification } from "./audit.schemas";

const AuditCursor = z.tuple([z.number().int().min(1)]);
/** Rows read per D1 query while verifying: bounded memory whatever the length of the log. */
const VERIFY_CHUNK = 500;

type AuditRow = typeof auditLogs.$inferSelect;

function toEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    id: row.id,
    created_at: new Date(row.createdAt).toISOString(),
    // Rows are written only through writeWithAudit, whose events are typed by the catalog.
    action: row.action as AuditAction,
    actor_user_id: row.actorUserId,
    actor_ip: row.actorIp,
    actor_user_agent: row.actorUserAgent,
    request_id: row.requestId,
    session_id: row.sessionId,
    target_type: row.targetType,
    target_id: row.targetId,
    changes: row.changes === null ? null : (JSON.parse(row.changes) as Record<string, unknown>),
    prev_hash: row.prevHash,
    hash: row.hash,
  };
}

/** Security events, newest first, filtered by actor, target, action and time. */
export async function listAuditLogs(db: Database, query: AuditQuery) {
  const before = decodeCursor(query.cursor, AuditCursor);
  const filters: SQL[] = [];
  if (query.actor) filters.push(eq(auditLogs.actorUserId, query.actor));
  if (query.target) filters.push(eq(auditLogs.targetId, query.target));
  if (query.action) filters.push(eq(auditLogs.action, query.action));
  if (query.since) filters.push(gte(auditLogs.createdAt, Date.parse(query.since)));
  if (query.until) filters.push(lt(auditLogs.createdAt, Date.parse(query.until)));
  if (before) filters.push(lt(auditLogs.seq, before[0]));
  const rows = await db
    .select()
    .from(auditLogs)
    .where(and(...filters))
    .orderBy(desc(auditLogs.seq))
    .limit(query.limit + 1)
    .all();
  return toPage(rows, query.limit, (row) => [row.seq], toEntry);
}

/**
 * Recomputes the sealed chain in seq order: every row's hash must match its stored content, and
 * its prev_hash must be the previous row's hash (the first row's is GENESIS_HASH). An edited row
 * fails the first test, a deleted or inserted one the second. Sealed rows form a prefix of the
 * log; the rows after it are waiting for the sealer and are counted in `unsealed` (a sealed row
 * after an unsealed one is a break). Cutting rows off the end leaves a valid shorter chain:
 * compare head_seq/head_hash with a copy kept elsewhere to detect that.
 */
export async function verifyAuditChain(db: Database): Promise<AuditVerification> {
  let checked = 0;
  let unsealed = 0;
  let oldestUnsealed: number | null = null;
  let previous = GENESIS_HASH;
  let head: AuditRow | undefined;
  let afterSeq = 0;
  const broken = (row: AuditRow): AuditVerification => ({ intact: false, checked, first_broken_seq: row.seq, head_seq: null, head_hash: null, unsealed, oldest_unsealed_at: null });
  for (;;) {
    const rows = await db.select().from(auditLogs).where(gt(auditLogs.seq, afterSeq)).orderBy(asc(auditLogs.seq)).limit(VERIFY_CHUNK).all();
    for (const row of rows) {
      const { seq: _seq, hash, prevHash, ...content } = row;
      if (hash === null) {
        unsealed += 1;
        oldestUnsealed ??= row.createdAt;
        continue;
      }
      checked += 1;
      if (unsealed > 0 || prevHash !== previous || (await sha256Hex(canonicalAuditContent({ ...content, prevHash }))) !== hash) return broken(row);
      previous = hash;
      head = row;
    }
    if (rows.length < VERIFY_CHUNK) break;
    afterSeq = rows.at(-1)!.seq;
  }
  return {
    intact: true,
    checked,
    head_seq: head?.seq ?? null,
    head_hash: head?.hash ?? null,
    unsealed,
    oldest_unsealed_at: oldestUnsealed === null ? null : new Date(oldestUnsealed).toISOString(),
  };
}
