import { desc, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { capturedMails } from "../../db/schema";
import { normalizeEmail } from "../../lib/email";
import { MAILBOX_LIMIT, type CapturedMail } from "./dev.schemas";

/** The newest captured messages to `address` (normalized), newest first. */
export async function listCapturedMails(db: Database, address: string, limit = MAILBOX_LIMIT): Promise<CapturedMail[]> {
  const rows = await db
    .select()
    .from(capturedMails)
    .where(eq(capturedMails.toAddress, normalizeEmail(address)))
    // rowid breaks ties between messages captured in the same millisecond, in insertion order.
    .orderBy(desc(capturedMails.createdAt), sql`rowid desc`)
    .limit(limit);
  return rows.map((row) => ({
    id: row.id,
    to: row.toAddress,
    subject: row.subject,
    text: row.textBody,
    created_at: new Date(row.createdAt).toISOString(),
  }));
}

/** Deletes every captured message to `address` (normalized); returns how many there were. */
export async function clearCapturedMails(db: Database, address: string): Promise<number> {
  const deleted = await db
    .delete(capturedMails)
    .where(eq(capturedMails.toAddress, normalizeEmail(address)))
    .returning({ id: capturedMails.id });
  return deleted.length;
}
