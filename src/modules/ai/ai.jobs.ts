/**
 * The message of the AI document queue (AI_DOCUMENTS_QUEUE), sent by ai.documents.service.ts and
 * consumed by ai.queue.ts. Its own module so that the bindings' types can name it without importing
 * the consumer (and, through it, the configuration check).
 */

/** One queued indexing job. */
export interface DocumentJob {
  documentId: string;
  ownerId: string;
}
