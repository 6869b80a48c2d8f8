import { and, eq } from "drizzle-orm";
import { createDb, type Database } from "../../db/client";
import { aiChunks, aiDocuments, files } from "../../db/schema";
import type { Bindings } from "../../bindings";
import type { Config } from "../../config";
import { loadConfig } from "../../env";
import { createLogger } from "../../lib/logger";
import { budgetsFor, loadPolicy } from "./ai.budget";
import { defaultModel } from "./ai.config";
import { costMicroUsd } from "./ai.cost";
import { chunkText, extractText, UnindexableError } from "./ai.extract";
import type { DocumentJob } from "./ai.jobs";
import { countTokens } from "./ai.tokens";
import { recordUsage } from "./ai.usage";
import { providerFor } from "./providers";
import { chunkId } from "./vector-store/store";
import { vectorStoreFor } from "./vector-store";

/** The dead-letter queue's name (wrangler.toml): jobs that exhausted their retries land there. */
export const DEAD_LETTER_QUEUE = "ai-documents-dlq";
export const MAX_CHUNKS = 4_000;
const EMBED_BATCH = 32;

const setStatus = (db: Database, job: DocumentJob, fields: Partial<typeof aiDocuments.$inferInsert>) =>
  db.update(aiDocuments).set({ ...fields, updatedAt: Date.now() }).where(and(eq(aiDocuments.id, job.documentId), eq(aiDocuments.ownerId, job.ownerId)));

/**
 * Extracts, chunks, embeds and stores one document. Returns normally when the job is finished
 * (indexed, or failed for good); throws when a retry may succeed (provider or storage outage).
 */
export async function indexDocument(db: Database, config: Config, bindings: Bindings, job: DocumentJob): Promise<void> {
  const row = await db
    .select({ document: aiDocuments, file: files })
    .from(aiDocuments)
    .innerJoin(files, eq(files.id, aiDocuments.fileId))
    .where(and(eq(aiDocuments.id, job.documentId), eq(aiDocuments.ownerId, job.ownerId)))
    .get();
  if (!row) return; // Deleted meanwhile: nothing to do.
  await setStatus(db, job, { status: "indexing", attempts: row.document.attempts + 1 });
  try {
    const object = await bindings.FILES.get(row.file.r2Key);
    if (!object) throw new UnindexableError("the file's content is missing");
    const text = await extractText(new Uint8Array(await object.arrayBuffer()), row.file.contentType);
    const passages = chunkText(text);
    if (passages.length > MAX_CHUNKS) throw new UnindexableError(`the document has more than ${MAX_CHUNKS} passages`);
    const model = defaultModel(config, "embedding");
    if (!model) throw new UnindexableError("no embedding model is configured");
    const provider = providerFor(model, config, bindings);
    const vectors: number[][] = [];
    let tokens = 0;
    for (let start = 0; start < passages.length; start += EMBED_BATCH) {
      const batch = passages.slice(start, start + EMBED_BATCH);
      const result = await provider.embed(model.providerModel, batch);
      vectors.push(...result.vectors);
      tokens += result.inputTokens ?? batch.reduce((sum, passage) => sum + countTokens(passage), 0);
    }
    // A retry starts from a clean slate: earlier partial rows go first.
    const inserts = passages.map((passage, chunk) => db.insert(aiChunks).values({ id: chunkId(job.documentId, chunk), documentId: job.documentId, ownerId: job.ownerId, chunk, text: passage }));
    const statements = [db.delete(aiChunks).where(eq(aiChunks.documentId, job.documentId)), ...inserts];
    for (let start = 0; start < statements.length; start += 100) {
      const slice = statements.slice(start, start + 100);
      await db.batch(slice as [(typeof slice)[number], ...typeof slice]);
    }
    await vectorStoreFor(config, bindings).upsert(job.ownerId, job.documentId, passages.map((passage, chunk) => ({ chunk, text: passage, vector: vectors[chunk] ?? [] })));
    await setStatus(db, job, { status: "ready", chunkCount: passages.length, failureReason: null });
    // Embedding is charged after the fact to the owner's budgets and recorded like any call.
    const policy = await loadPolicy(bindings.DB, job.ownerId);
    const cost = costMicroUsd(model, tokens, 0);
    const budgets = budgetsFor(bindings, job.ownerId, policy);
    await budgets.counters.adjust({ tokens, cost });
    await recordUsage(db, {
      userId: job.ownerId, role: policy.role, model: model.id, endpoint: "documents", inputTokens: tokens, outputTokens: 0,
      costMicroUsd: cost, latencyMs: 0, ttfbMs: null, outcome: "ok", errorCode: null, requestId: null, at: Date.now(),
    });
  } catch (error) {
    if (error instanceof UnindexableError) {
      await setStatus(db, job, { status: "failed", failureReason: error.message.slice(0, 500) });
      return;
    }
    await setStatus(db, job, { status: "queued", failureReason: `retrying: ${error instanceof Error ? error.message.slice(0, 400) : "unknown error"}` });
    throw error;
  }
}

/**
 * The queue consumer (wired in src/index.ts). Each message is acknowledged when its job is done;
 * a transient failure retries it with exponential backoff, and after max_retries (wrangler.toml)
 * the runtime moves it to the dead-letter queue, whose consumer marks the document failed.
 */
export async function handleAiQueue(batch: MessageBatch<DocumentJob>, bindings: Bindings): Promise<void> {
  const logger = createLogger("info", { component: "ai-queue" });
  const loaded = loadConfig(bindings);
  if (!loaded.ok) {
    logger.error("AI queue: configuration invalid; retrying later", { problems: loaded.problems });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  const db = createDb(bindings.DB);
  for (const message of batch.messages) {
    if (batch.queue === DEAD_LETTER_QUEUE) {
      await db
        .update(aiDocuments)
        .set({ status: "failed", failureReason: "indexing failed after every retry", updatedAt: Date.now() })
        .where(and(eq(aiDocuments.id, message.body.documentId), eq(aiDocuments.ownerId, message.body.ownerId)));
      message.ack();
      continue;
    }
    try {
      await indexDocument(db, loaded.config, bindings, message.body);
      message.ack();
    } catch (error) {
      logger.warn("AI queue: indexing failed; retrying", { document_id: message.body.documentId, attempt: message.attempts, error: error instanceof Error ? error.message : String(error) });
      message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts) });
    }
  }
}
