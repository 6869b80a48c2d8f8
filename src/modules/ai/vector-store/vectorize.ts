import { chunkId, type ChunkVector, type VectorHit, type VectorQuery, type VectorStore } from "./store";

/**
 * Vectorize (binding VECTORS): each owner's vectors live in their own namespace, which Vectorize
 * applies before top-k, so another owner's vectors are never candidates. `document_id` is
 * metadata (create a metadata index on it: docs/ai.md) for `document_ids` filters.
 */
export function createVectorizeStore(index: Vectorize): VectorStore {
  return {
    async upsert(ownerId, documentId, chunks: ChunkVector[]) {
      for (let start = 0; start < chunks.length; start += 500) {
        await index.upsert(
          chunks.slice(start, start + 500).map((chunk) => ({
            id: chunkId(documentId, chunk.chunk),
            values: chunk.vector,
            namespace: ownerId,
            metadata: { document_id: documentId, chunk: chunk.chunk },
          })),
        );
      }
    },

    async query(query: VectorQuery): Promise<VectorHit[]> {
      const result = await index.query(query.vector, {
        topK: Math.min(query.limit, 50),
        namespace: query.ownerId,
        returnMetadata: "indexed",
        ...(query.documentIds.length > 0 ? { filter: { document_id: { $in: query.documentIds } } } : {}),
      });
      return result.matches.flatMap((match) => {
        const separator = match.id.lastIndexOf(":");
        const documentId = match.id.slice(0, separator);
        const chunk = Number(match.id.slice(separator + 1));
        return Number.isInteger(chunk) ? [{ documentId, chunk, score: Math.round(match.score * 10_000) / 10_000 }] : [];
      });
    },

    async deleteDocument(_ownerId, documentId, chunkCount) {
      const ids = Array.from({ length: chunkCount }, (_, chunk) => chunkId(documentId, chunk));
      for (let start = 0; start < ids.length; start += 1000) await index.deleteByIds(ids.slice(start, start + 1000));
    },
  };
}
