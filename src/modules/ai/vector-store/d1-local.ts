import { chunkId, type ChunkVector, type VectorHit, type VectorQuery, type VectorStore } from "./store";

/** int8 components of a unit vector, base64: 256 dimensions are 344 characters. */
export function quantize(vector: number[]): string {
  let binary = "";
  for (const value of vector) binary += String.fromCharCode(Math.max(-127, Math.min(127, Math.round(value * 127))) & 0xff);
  return btoa(binary);
}

/** FTS5 query of the text's words, each quoted (no operators from user text), OR-ed. */
export function ftsQuery(text: string): string | null {
  const words = [...new Set(text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? [])].slice(0, 32);
  return words.length === 0 ? null : words.map((word) => `"${word}"`).join(" OR ");
}

const CANDIDATES = 50;
/** Reciprocal-rank fusion constant (Cormack et al. 2009). */
const RRF_K = 60;

/**
 * One owner's ready vectors, decoded once: row i is chunk `chunks[i]` of `documents[i]`, its int8
 * components at `vectors[i * dimensions ...]`. `signature` names the ready documents it was read
 * for (id, chunk count, last change); any indexing, re-indexing or delete changes it.
 */
interface OwnerVectors {
  signature: string;
  documents: string[];
  chunks: Int32Array;
  vectors: Int8Array;
  dimensions: number;
}

/**
 * Per-isolate cache of decoded owner vectors, least recently used first, bounded in bytes. Each
 * query checks the owner's signature in D1 first (one small indexed read), so a cached matrix is
 * never used after the owner's ready documents changed; it only saves reading and decoding every
 * vector again (10,000 chunks: ~3.4 MB of base64 per query).
 */
const ownerCache = new Map<string, OwnerVectors>();
const OWNER_CACHE_BYTES = 32 * 1024 * 1024;
let cachedBytes = 0;

function remember(ownerId: string, entry: OwnerVectors) {
  forget(ownerId);
  if (entry.vectors.byteLength > OWNER_CACHE_BYTES) return;
  ownerCache.set(ownerId, entry);
  cachedBytes += entry.vectors.byteLength;
  for (const [oldest, old] of ownerCache) {
    if (cachedBytes <= OWNER_CACHE_BYTES) break;
    ownerCache.delete(oldest);
    cachedBytes -= old.vectors.byteLength;
  }
}

function forget(ownerId: string) {
  const old = ownerCache.get(ownerId);
  if (!old) return;
  ownerCache.delete(ownerId);
  cachedBytes -= old.vectors.byteLength;
}

function recall(ownerId: string, signature: string): OwnerVectors | undefined {
  const entry = ownerCache.get(ownerId);
  if (!entry || entry.signature !== signature) return undefined;
  // Re-insert: Map order is the LRU order.
  ownerCache.delete(ownerId);
  ownerCache.set(ownerId, entry);
  return entry;
}

interface VectorRow {
  documentId: string;
  chunk: number;
  embedding: string;
}

function decode(signature: string, rows: VectorRow[]): OwnerVectors {
  const dimensions = rows.length === 0 ? 0 : atob(rows[0]!.embedding).length;
  const vectors = new Int8Array(rows.length * dimensions);
  const chunks = new Int32Array(rows.length);
  const documents: string[] = [];
  rows.forEach(({ documentId, chunk, embedding }, row) => {
    const binary = atob(embedding);
    const base = row * dimensions;
    for (let index = 0; index < dimensions && index < binary.length; index++) vectors[base + index] = binary.charCodeAt(index);
    chunks[row] = chunk;
    documents.push(documentId);
  });
  return { signature, documents, chunks, vectors, dimensions };
}

/** The best `CANDIDATES` rows by dot product with `probe`, restricted to `only` when given. */
function nearest(owner: OwnerVectors, probe: Float32Array, only: Set<string> | null) {
  const { dimensions, vectors } = owner;
  const length = Math.min(dimensions, probe.length);
  const scored: { row: number; similarity: number }[] = [];
  for (let row = 0; row < owner.documents.length; row++) {
    if (only && !only.has(owner.documents[row]!)) continue;
    const base = row * dimensions;
    let dot = 0;
    for (let index = 0; index < length; index++) dot += vectors[base + index]! * probe[index]!;
    scored.push({ row, similarity: dot / 127 });
  }
  return scored
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, CANDIDATES)
    .map(({ row, similarity }) => ({ documentId: owner.documents[row]!, chunk: owner.chunks[row]!, similarity }));
}

/**
 * The local store: vectors in ai_chunks.embedding, words in the ai_chunks_fts FTS5 index. A
 * query scans the owner's vectors (int8, decoded once per isolate and checked against the owner's
 * ready documents on every query) and asks FTS5 for the best lexical matches, then fuses both
 * rankings (RRF), so an exact rare word and a paraphrase both surface. Every statement is bound to
 * the owner: no id sent by a caller can reach another owner's rows.
 */
export function createD1VectorStore(db: D1Database): VectorStore {
  const signatureOf = (ownerId: string) =>
    db
      .prepare(
        `select coalesce(group_concat(id || ':' || chunk_count || ':' || updated_at, ','), '') as signature
         from (select id, chunk_count, updated_at from ai_documents where owner_id = ? and status = 'ready' order by id)`,
      )
      .bind(ownerId);

  async function ownerVectors(ownerId: string): Promise<OwnerVectors> {
    const current = await signatureOf(ownerId).first<string>("signature");
    const cached = recall(ownerId, current ?? "");
    if (cached) return cached;
    // Signature and vectors in one batch (one transaction), so they describe the same rows.
    const [signature, vectorRows] = await db.batch<Record<string, unknown>>([
      signatureOf(ownerId),
      db
        .prepare(
          `select c.document_id as documentId, c.chunk as chunk, c.embedding as embedding from ai_chunks c join ai_documents d on d.id = c.document_id
           where c.owner_id = ? and d.status = 'ready' and c.embedding is not null`,
        )
        .bind(ownerId),
    ]);
    const entry = decode(String(signature!.results[0]?.signature ?? ""), vectorRows!.results as unknown as VectorRow[]);
    remember(ownerId, entry);
    return entry;
  }

  return {
    async upsert(ownerId, documentId, chunks: ChunkVector[]) {
      const statements = chunks.map((chunk) =>
        db
          .prepare("update ai_chunks set embedding = ? where id = ? and owner_id = ?")
          .bind(quantize(chunk.vector), chunkId(documentId, chunk.chunk), ownerId),
      );
      for (let start = 0; start < statements.length; start += 100) await db.batch(statements.slice(start, start + 100));
    },

    async query(query: VectorQuery): Promise<VectorHit[]> {
      const filter = query.documentIds.length > 0 ? `and c.document_id in (${query.documentIds.map(() => "?").join(", ")})` : "";
      const only = query.documentIds.length > 0 ? new Set(query.documentIds) : null;
      const byVector = nearest(await ownerVectors(query.ownerId), Float32Array.from(query.vector), only);

      const match = ftsQuery(query.text);
      const lexical = match
        ? (
            await db
              .prepare(
                `select c.document_id as documentId, c.chunk as chunk from ai_chunks_fts f join ai_chunks c on c.rowid = f.rowid
                 join ai_documents d on d.id = c.document_id
                 where ai_chunks_fts match ? and c.owner_id = ? and d.status = 'ready' ${filter}
                 order by bm25(ai_chunks_fts) limit ${CANDIDATES}`,
              )
              .bind(match, query.ownerId, ...query.documentIds)
              .all<{ documentId: string; chunk: number }>()
          ).results
        : [];

      const fused = new Map<string, VectorHit & { similarity: number }>();
      const add = (documentId: string, chunk: number, rank: number, similarity: number) => {
        const key = chunkId(documentId, chunk);
        const hit = fused.get(key) ?? { documentId, chunk, score: 0, similarity };
        hit.score += 1 / (RRF_K + rank);
        fused.set(key, hit);
      };
      byVector.forEach((hit, rank) => add(hit.documentId, hit.chunk, rank + 1, hit.similarity));
      lexical.forEach((hit, rank) => add(hit.documentId, hit.chunk, rank + 1, 0));
      // Scores are scaled so a passage ranked first by both rankings scores 1.
      const best = 2 / (RRF_K + 1);
      return [...fused.values()]
        .sort((a, b) => b.score - a.score || b.similarity - a.similarity)
        .slice(0, query.limit)
        .map(({ documentId, chunk, score }) => ({ documentId, chunk, score: Math.round((score / best) * 10_000) / 10_000 }));
    },

    // Rows (and their FTS entries, by trigger) go with the document row's cascade; the next query's
    // signature no longer matches a cached matrix that held them.
    async deleteDocument() {},
  };
}
