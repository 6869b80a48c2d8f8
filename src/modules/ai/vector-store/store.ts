/**
 * Where document vectors live. Production: Vectorize (binding VECTORS, one namespace per owner, so
 * the owner filter applies before top-k). Development and tests: D1 (vectors next to an FTS5
 * index, ranked together). Passage text always lives in D1 (`ai_chunks`), so both stores answer
 * with ids and scores and the text comes from the owner's own rows.
 */
export interface ChunkVector {
  chunk: number;
  text: string;
  vector: number[];
}

export interface VectorHit {
  documentId: string;
  chunk: number;
  score: number;
}

export interface VectorQuery {
  ownerId: string;
  vector: number[];
  /** The query's text, for stores that also rank lexically. */
  text: string;
  limit: number;
  /** Restrict to these documents (already checked to be the owner's and ready). */
  documentIds: string[];
}

export interface VectorStore {
  /** Stores a document's chunks (rows in ai_chunks are written by the caller in the same batch for D1). */
  upsert(ownerId: string, documentId: string, chunks: ChunkVector[]): Promise<void>;
  query(query: VectorQuery): Promise<VectorHit[]>;
  /** Removes every vector of a document (`chunkCount` ids for stores that delete by id). */
  deleteDocument(ownerId: string, documentId: string, chunkCount: number): Promise<void>;
}

export const chunkId = (documentId: string, chunk: number) => `${documentId}:${chunk}`;
