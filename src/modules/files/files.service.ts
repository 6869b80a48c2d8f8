import { z } from "zod";
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client";
import { files } from "../../db/schema";
import type { Config } from "../../config";
import { writeWithAudit, type AuditActor } from "../../lib/audit";
import { newId } from "../../lib/ids";
import { decodeCursor, toPage } from "../../lib/pagination";
import type { Logger } from "../../lib/logger";
import { describeError } from "../../lib/logger";
import { ProblemError } from "../../lib/problem";
import type { FileRecord, ListFilesQuery } from "./files.schemas";
import { objectKey } from "./files.storage";
import { allowedTypes, classifyUpload, sanitizeFileName } from "./files.validation";

/** What the file services need from a request, without Hono. */
export interface FilesDeps {
  db: Database;
  bucket: R2Bucket;
  config: Config;
  actor: AuditActor;
  logger: Logger;
  now: number;
}

/** Who is asking: the user and their current permissions. */
export interface FileCaller {
  userId: string;
  permissions: ReadonlySet<string>;
}

export type FileRow = typeof files.$inferSelect;

export function toFileRecord(row: FileRow): FileRecord {
  return {
    id: row.id,
    name: row.name,
    content_type: row.contentType,
    size: row.size,
    sha256: row.sha256,
    category: row.category,
    owner_id: row.ownerId,
    created_at: new Date(row.createdAt).toISOString(),
  };
}

async function usedBytes(db: Database, ownerId: string): Promise<number> {
  const row = await db
    .select({ used: sql<number>`coalesce(sum(${files.size}), 0)` })
    .from(files)
    .where(eq(files.ownerId, ownerId))
    .get();
  return Number(row?.used ?? 0);
}

function quotaExceeded(quota: number, used: number, size: number): ProblemError {
  return new ProblemError("payload_too_large", {
    detail: `This upload of ${size} bytes would exceed your storage quota: ${used} of ${quota} bytes are used.`,
    extensions: { reason: "quota_exceeded", quota_bytes: quota, used_bytes: used, requested_bytes: size, remaining_bytes: Math.max(0, quota - used) },
  });
}

/** The conditional insert yields NULL for `size` when the quota would be exceeded; see `insertWithinQuota`. */
function isQuotaViolation(error: unknown): boolean {
  const text = (value: unknown): string => (value instanceof Error ? `${value.message} ${text(value.cause)}` : "");
  return /NOT NULL constraint failed: files\.size/.test(text(error));
}

/**
 * The quota check and the insert as ONE statement: D1 executes statements one at a time on one
 * SQLite database, so the sum it reads cannot change before the row is written, and parallel
 * uploads can never overshoot. When the file does not fit, the CASE yields NULL for the NOT NULL
 * `size` column; the constraint error aborts the whole batch, audit event included.
 */
function insertWithinQuota(db: Database, row: FileRow, quota: number) {
  // Columns in the table's order: id, owner_id, name, content_type, size, sha256, category, r2_key, created_at.
  return db.insert(files).select(sql`
    select ${row.id}, ${row.ownerId}, ${row.name}, ${row.contentType},
      case when (select coalesce(sum(size), 0) from files where owner_id = ${row.ownerId}) + ${row.size} <= ${quota} then ${row.size} end,
      ${row.sha256}, ${row.category}, ${row.r2Key}, ${row.createdAt}`);
}

async function sha256OfBytes(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

export interface UploadInput {
  file: File;
  category?: string | undefined;
}

/**
 * Validates and stores an upload: the object first, then its row (with the audit event). If the
 * row cannot be written the object is deleted again, so a row exists only for a stored object;
 * an object left behind by a crash between the two is removed by the sweep (files.sweep.ts).
 */
export async function uploadFile(deps: FilesDeps, ownerId: string, input: UploadInput): Promise<FileRecord> {
  const { config } = deps;
  const size = input.file.size;
  if (size === 0) {
    throw new ProblemError("validation_failed", { detail: "The file is empty.", errors: [{ path: "body.file", message: "must not be empty" }] });
  }
  if (size > config.MAX_UPLOAD_BYTES) {
    throw new ProblemError("payload_too_large", {
      detail: `The file exceeds the limit of ${config.MAX_UPLOAD_BYTES} bytes.`,
      extensions: { max_bytes: config.MAX_UPLOAD_BYTES },
    });
  }
  const name = sanitizeFileName(input.file.name);
  const bytes = new Uint8Array(await input.file.arrayBuffer());
  const contentType = classifyUpload({ bytes, name, declaredType: input.file.type }, allowedTypes(config.UPLOAD_ALLOWED_TYPES));

  // A cheap early refusal, so most over-quota uploads never reach R2; the insert decides exactly.
  const used = await usedBytes(deps.db, ownerId);
  if (used + size > config.FILES_QUOTA_BYTES) throw quotaExceeded(config.FILES_QUOTA_BYTES, used, size);

  const id = newId(deps.now);
  const sha256 = await sha256OfBytes(bytes);
  const row: FileRow = { id, ownerId, name, contentType, size, sha256, category: input.category ?? null, r2Key: objectKey(ownerId, id), createdAt: deps.now };
  // R2 verifies the checksum, so a corrupted transfer is refused rather than stored.
  await deps.bucket.put(row.r2Key, bytes, { httpMetadata: { contentType }, sha256, customMetadata: { owner_id: ownerId, file_id: id } });
  try {
    await writeWithAudit(
      deps.db,
      deps.actor,
      [{ action: "file.uploaded", targetType: "file", targetId: id, changes: { name, content_type: contentType, size, sha256, category: row.category, owner_id: ownerId } }],
      () => [insertWithinQuota(deps.db, row, config.FILES_QUOTA_BYTES)],
      deps.now,
    );
  } catch (error) {
    await removeObject(deps, row.r2Key);
    if (isQuotaViolation(error)) throw quotaExceeded(config.FILES_QUOTA_BYTES, await usedBytes(deps.db, ownerId), size);
    throw error;
  }
  return toFileRecord(row);
}

/** Deletes an object whose row is gone or was never written; a failure is left to the sweep. */
async function removeObject(deps: FilesDeps, key: string): Promise<void> {
  try {
    await deps.bucket.delete(key);
  } catch (error) {
    deps.logger.error("orphaned R2 object left for the sweep", { r2_key: key, ...describeError(error) });
  }
}

const notFound = () => new ProblemError("not_found", { detail: "No such file." });

/**
 * The file if the caller may see it: their own (with files:read, or files:write for deletion),
 * or anyone's with files:read_any / files:delete_any. Otherwise 404, exactly as if it did not
 * exist, so ids of other users' files reveal nothing.
 */
export async function findAccessibleFile(deps: Pick<FilesDeps, "db">, caller: FileCaller, id: string, access: "read" | "delete"): Promise<FileRow> {
  const row = await deps.db.select().from(files).where(eq(files.id, id)).get();
  if (!row) throw notFound();
  const own = access === "read" ? "files:read" : "files:write";
  const any = access === "read" ? "files:read_any" : "files:delete_any";
  const allowed = (row.ownerId === caller.userId && caller.permissions.has(own)) || caller.permissions.has(any);
  if (!allowed) throw notFound();
  return row;
}

/** Removes the row (with its audit event) and then the object; see `removeObject` for failures. */
export async function deleteFile(deps: FilesDeps, caller: FileCaller, id: string): Promise<void> {
  const row = await findAccessibleFile(deps, caller, id, "delete");
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "file.deleted", targetType: "file", targetId: id, changes: { name: row.name, size: row.size, sha256: row.sha256, owner_id: row.ownerId } }],
    () => [deps.db.delete(files).where(and(eq(files.id, id), eq(files.ownerId, row.ownerId)))],
    deps.now,
  );
  await removeObject(deps, row.r2Key);
}

/** One page of a user's files, newest first. `owner` other than the caller needs files:read_any. */
export async function listFiles(deps: Pick<FilesDeps, "db">, caller: FileCaller, query: ListFilesQuery): Promise<{ items: FileRecord[]; next_cursor: string | null }> {
  const ownerId = query.owner ?? caller.userId;
  if (ownerId !== caller.userId && !caller.permissions.has("files:read_any")) {
    throw new ProblemError("forbidden", {
      detail: "Listing another user's files needs the permission files:read_any.",
      extensions: { missing_permissions: ["files:read_any"] },
    });
  }
  const conditions: SQL[] = [eq(files.ownerId, ownerId)];
  if (query.category) conditions.push(eq(files.category, query.category));
  const after = decodeCursor(query.cursor, z.tuple([z.number().int(), z.uuid()]));
  if (after) conditions.push(sql`(${files.createdAt}, ${files.id}) < (${after[0]}, ${after[1]})`);
  const rows = await deps.db
    .select()
    .from(files)
    .where(and(...conditions))
    .orderBy(desc(files.createdAt), desc(files.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, (row) => [row.createdAt, row.id], toFileRecord);
}
