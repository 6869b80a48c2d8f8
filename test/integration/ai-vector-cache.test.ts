import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createD1VectorStore } from "../../src/modules/ai/vector-store/d1-local";
import { createUser } from "../helpers/auth";

/*
 * The D1 store keeps each owner's decoded vectors per isolate. These tests query with an empty
 * text (no full-text ranking), so every hit comes from the vectors: a stale cached matrix would
 * show here as a missing new document or a deleted one still found.
 */
const DIMENSIONS = 8;
const unit = (axis: number) => Array.from({ length: DIMENSIONS }, (_, index) => (index === axis ? 1 : 0));

async function addDocument(ownerId: string, vectors: number[][], status: "ready" | "indexing" = "ready"): Promise<string> {
  const fileId = crypto.randomUUID();
  const documentId = crypto.randomUUID();
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("insert into files (id, owner_id, name, content_type, size, sha256, r2_key, created_at) values (?, ?, 'a.txt', 'text/plain', 1, 'x', ?, ?)").bind(
      fileId,
      ownerId,
      `files/${ownerId}/${fileId}`,
      now,
    ),
    env.DB.prepare("insert into ai_documents (id, owner_id, file_id, status, chunk_count, attempts, created_at, updated_at) values (?, ?, ?, ?, ?, 0, ?, ?)").bind(
      documentId,
      ownerId,
      fileId,
      status,
      vectors.length,
      now,
      now,
    ),
    ...vectors.map((_, chunk) =>
      env.DB.prepare("insert into ai_chunks (id, document_id, owner_id, chunk, text) values (?, ?, ?, ?, ?)").bind(`${documentId}:${chunk}`, documentId, ownerId, chunk, `passage ${chunk}`),
    ),
  ]);
  await createD1VectorStore(env.DB).upsert(
    ownerId,
    documentId,
    vectors.map((vector, chunk) => ({ chunk, text: `passage ${chunk}`, vector })),
  );
  return documentId;
}

const query = (ownerId: string, axis: number, documentIds: string[] = []) =>
  createD1VectorStore(env.DB).query({ ownerId, vector: unit(axis), text: "", limit: 3, documentIds });

describe("D1 vector store: per-isolate cache of an owner's vectors", () => {
  it("sees a document that became ready after the owner's vectors were cached", async () => {
    const user = await createUser();
    const first = await addDocument(user.id, [unit(0), unit(1)]);
    expect((await query(user.id, 0))[0]).toMatchObject({ documentId: first, chunk: 0 });

    const pending = await addDocument(user.id, [unit(2)], "indexing");
    expect((await query(user.id, 2)).map((hit) => hit.documentId)).not.toContain(pending);
    await env.DB.prepare("update ai_documents set status = 'ready', updated_at = ? where id = ?").bind(Date.now() + 1, pending).run();
    expect((await query(user.id, 2))[0]).toMatchObject({ documentId: pending, chunk: 0 });
  });

  it("stops finding a deleted document's vectors at once", async () => {
    const user = await createUser();
    const kept = await addDocument(user.id, [unit(3)]);
    const deleted = await addDocument(user.id, [unit(4)]);
    expect((await query(user.id, 4))[0]).toMatchObject({ documentId: deleted });
    await env.DB.prepare("delete from ai_documents where id = ?").bind(deleted).run();
    const hits = await query(user.id, 4);
    expect(hits.map((hit) => hit.documentId)).toEqual([kept]);
  });

  it("keeps owners apart and honours document_ids from the cached matrix", async () => {
    const alice = await createUser();
    const bob = await createUser();
    const aliceFirst = await addDocument(alice.id, [unit(5)]);
    const aliceSecond = await addDocument(alice.id, [unit(5), unit(6)]);
    const bobs = await addDocument(bob.id, [unit(5)]);
    expect(new Set((await query(alice.id, 5)).map((hit) => hit.documentId))).toEqual(new Set([aliceFirst, aliceSecond]));
    expect((await query(bob.id, 5)).map((hit) => hit.documentId)).toEqual([bobs]);
    // Alice's matrix is cached now: a filter is applied to it, and Bob's id finds nothing in it.
    expect((await query(alice.id, 5, [aliceSecond])).map((hit) => hit.documentId)).toEqual([aliceSecond, aliceSecond]);
    expect(await query(alice.id, 5, [bobs])).toEqual([]);
  });
});
