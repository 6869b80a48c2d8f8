import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import { aiDocuments, files } from "../../db/schema";
import type { Bindings } from "../../bindings";
import type { Config } from "../../config";
import { newId } from "../../lib/ids";
import { decodeCursor, toPage, type PaginationQuery } from "../../lib/pagination";
import { ProblemError } from "../../lib/problem";
import { INDEXABLE_TYPES } from "./ai.extract";
import { vectorStoreFor } from "./vector-store";

type DocumentRow = typeof aiDocuments.$inferSelect;

export function toDocument(row: DocumentRow & { fileName?: string | null }) {
  return {
    id: row.id,
    file_id: row.fileId,
    file_name: row.fileName ?? null,
    status: row.status,
    failure_reason: row.failureReason,
    chunk_count: row.chunkCount,
    created_at: new Date(row.createdAt).toISOString(),
    updated_at: new Date(row.updatedAt).toISOString(),
  };
}

const notFound = () => new ProblemError("not_found", { detail: "No such document." });

/**
 * Queues one of the caller's own uploads for indexing. Another user's file is a 404 even for an
 * administrator: documents and their passages are private to their owner.
 */
export async function createDocument(db: Database, bindings: Bindings, ownerId: string, fileId: string, now: number) {
  const file = await db.select().from(files).where(and(eq(files.id, fileId), eq(files.ownerId, ownerId))).get();
  if (!file) throw new ProblemError("not_found", { detail: "No such file." });
  if (!(INDEXABLE_TYPES as readonly string[]).includes(file.contentType)) {
    throw new ProblemError("validation_failed", {
      detail: `Files of type ${file.contentType} cannot be indexed (text, Markdown, CSV, JSON and PDF can).`,
      errors: [{ path: "body.file_id", message: "not an indexable type" }],
    });
  }
  const queue = bindings.AI_DOCUMENTS_QUEUE;
  if (!queue) throw new ProblemError("ai_unavailable", { detail: "Document ingestion is not configured (AI_DOCUMENTS_QUEUE)." });
  const existing = await db.select().from(aiDocuments).where(eq(aiDocuments.fileId, fileId)).get();
  if (existing) throw new ProblemError("already_exists", { detail: "This file is already indexed.", extensions: { document_id: existing.id } });
  const row: DocumentRow = { id: newId(now), ownerId, fileId, status: "queued", failureReason: null, chunkCount: 0, attempts: 0, createdAt: now, updatedAt: now };
  try {
    await db.insert(aiDocuments).values(row);
  } catch (error) {
    if (/UNIQUE constraint failed/.test(`${String(error)} ${String((error as Error).cause)}`)) throw new ProblemError("already_exists", { detail: "This file is already indexed." });
    throw error;
  }
  await enqueue(db, queue, row);
  return toDocument({ ...row, fileName: file.name });
}

/**
 * Sends the indexing job of a just-inserted document. The row goes first so the consumer always
 * finds it; when the send fails the row is taken back (a document left `queued` with no job would
 * never be indexed, and its file could never be indexed again) and the client gets a 503 to retry.
 */
async function enqueue(db: Database, queue: Queue, row: DocumentRow): Promise<void> {
  try {
    await queue.send({ documentId: row.id, ownerId: row.ownerId });
  } catch (error) {
    await db.delete(aiDocuments).where(eq(aiDocuments.id, row.id));
    throw new ProblemError("service_unavailable", {
      detail: "The indexing queue is temporarily unavailable; nothing was queued. Retry shortly.",
      headers: { "Retry-After": "5" },
      cause: error,
    });
  }
}

export async function getDocument(db: Database, ownerId: string, id: string) {
  const row = await db
    .select({ document: aiDocuments, fileName: files.name })
    .from(aiDocuments)
    .leftJoin(files, eq(files.id, aiDocuments.fileId))
    .where(and(eq(aiDocuments.id, id), eq(aiDocuments.ownerId, ownerId)))
    .get();
  if (!row) throw notFound();
  return toDocument({ ...row.document, fileName: row.fileName });
}

export async function listDocuments(db: Database, ownerId: string, query: PaginationQuery) {
  const conditions: SQL[] = [eq(aiDocuments.ownerId, ownerId)];
  const after = decodeCursor(query.cursor, z.tuple([z.number().int(), z.uuid()]));
  if (after) conditions.push(sql`(${aiDocuments.createdAt}, ${aiDocuments.id}) < (${after[0]}, ${after[1]})`);
  const rows = await db
    .select({ document: aiDocuments, fileName: files.name })
    .from(aiDocuments)
    .leftJoin(files, eq(files.id, aiDocuments.fileId))
    .where(and(...conditions))
    .orderBy(desc(aiDocuments.createdAt), desc(aiDocuments.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, (row) => [row.document.createdAt, row.document.id], (row) => toDocument({ ...row.document, fileName: row.fileName }));
}

/** Deletes the document, its passages and every vector. */
export async function deleteDocument(db: Database, config: Config, bindings: Bindings, ownerId: string, id: string): Promise<void> {
  const row = await db.select().from(aiDocuments).where(and(eq(aiDocuments.id, id), eq(aiDocuments.ownerId, ownerId))).get();
  if (!row) throw notFound();
  await vectorStoreFor(config, bindings).deleteDocument(ownerId, id, row.chunkCount);
  await db.delete(aiDocuments).where(and(eq(aiDocuments.id, id), eq(aiDocuments.ownerId, ownerId)));
}

/**
 * Vectors that live outside D1 (Vectorize) of documents about to disappear with a file or a
 * user: D1 cascades remove the rows, so the documents are looked up first and the returned
 * function removes their vectors once the deletion has succeeded. A no-op for the D1 store.
 */
export async function prepareVectorRemoval(db: Database, config: Config, bindings: Bindings, where: { fileId: string } | { ownerId: string }): Promise<() => Promise<void>> {
  if (config.AI_VECTOR_STORE === "d1") return async () => {};
  const condition = "fileId" in where ? eq(aiDocuments.fileId, where.fileId) : eq(aiDocuments.ownerId, where.ownerId);
  const rows = await db.select({ id: aiDocuments.id, ownerId: aiDocuments.ownerId, chunkCount: aiDocuments.chunkCount }).from(aiDocuments).where(condition);
  return async () => {
    const store = vectorStoreFor(config, bindings);
    for (const row of rows) await store.deleteDocument(row.ownerId, row.id, row.chunkCount);
  };
}
