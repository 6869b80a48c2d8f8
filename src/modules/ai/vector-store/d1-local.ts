import { chunkId, type ChunkVector, type VectorHit, type VectorQuery, type VectorStore } from "./store";

/** int8 components of a unit vector, base64: 256 dimensions are 344 characters. */
export function quantize(vector: number[]): string {
  let binary = "";
  for (const value of vector) binary += String.fromCharCode(Math.max(-127, Math.min(127, Math.round(value * 127))) & 0xff);
  return btoa(binary);
}

function dequantizedDot(encoded: string, query: Float32Array): number {
  const binary = atob(encoded);
  let dot = 0;
  const length = Math.min(binary.length, query.length);
  for (let index = 0; index < length; index++) {
    const byte = binary.charCodeAt(index);
    dot += (byte > 127 ? byte - 256 : byte) * query[index]!;
  }
  return dot / 127;
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
 * The local store: vectors in ai_chunks.embedding, words in the ai_chunks_fts FTS5 index. A
 * query scans the owner's vectors (int8, one indexed range) and asks FTS5 for the best lexical
 * matches, then fuses both rankings (RRF), so an exact rare word and a paraphrase both surface.
 * Every statement is bound to the owner: no id sent by a caller can reach another owner's rows.
 */
export function createD1VectorStore(db: D1Database): VectorStore {
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
      const vectorRows = await db
        .prepare(
          `select c.document_id as d, c.chunk as n, c.embedding as e from ai_chunks c join ai_documents d on d.id = c.document_id
           where c.owner_id = ? and d.status = 'ready' and c.embedding is not null ${filter}`,
        )
        .bind(query.ownerId, ...query.documentIds)
        .raw<[string, number, string]>();
      const probe = Float32Array.from(query.vector);
      const byVector = vectorRows
        .map(([documentId, chunk, embedding]) => ({ documentId, chunk, similarity: dequantizedDot(embedding, probe) }))
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, CANDIDATES);

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

    // Rows (and their FTS entries, by trigger) go with the document row's cascade.
    async deleteDocument() {},
  };
}
