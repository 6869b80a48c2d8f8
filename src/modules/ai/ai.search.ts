import { ProblemError } from "../../lib/problem";
import { budgetsFor, policyOf, reserve } from "./ai.budget";
import { costMicroUsd } from "./ai.cost";
import { pickModel, screenAll, type GatewayDeps } from "./ai.gateway";
import { countTokens } from "./ai.tokens";
import { recordUsage } from "./ai.usage";
import { providerFor } from "./providers";
import { ProviderError } from "./providers/provider";
import { chunkId } from "./vector-store/store";
import { vectorStoreFor } from "./vector-store";

export interface Passage {
  document_id: string;
  chunk: number;
  score: number;
  text: string;
}

/**
 * The caller's documents among `ids`: every id must be the caller's (404 otherwise, as if it did
 * not exist) and ready (409). No id can widen a search beyond the caller's own rows.
 */
async function ownReadyDocuments(d1: D1Database, ownerId: string, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const { results } = await d1
    .prepare(`select id, status from ai_documents where owner_id = ? and id in (${unique.map(() => "?").join(", ")})`)
    .bind(ownerId, ...unique)
    .all<{ id: string; status: string }>();
  if (results.length !== unique.length) throw new ProblemError("not_found", { detail: "No such document." });
  const pending = results.filter((row) => row.status !== "ready");
  if (pending.length > 0) {
    throw new ProblemError("conflict", { detail: "Some documents are not ready yet; see their status.", extensions: { document_ids: pending.map((row) => row.id) } });
  }
  return unique;
}

/** Embeds the query (budgeted and recorded like any call) and ranks the caller's passages. */
async function search(deps: GatewayDeps, query: string, limit: number, documentIds: string[], endpoint: "search" | "chat"): Promise<Passage[]> {
  const ownerId = deps.principal.userId;
  const ids = await ownReadyDocuments(deps.bindings.DB, ownerId, documentIds);
  const model = pickModel(deps.config, deps.principal, undefined, "embedding");
  const tokens = countTokens(query);
  const policy = policyOf(deps.principal);
  const hold = await reserve(budgetsFor(deps.bindings, ownerId, policy), tokens, costMicroUsd(model, tokens, 0));
  const started = Date.now();
  let embedded;
  try {
    embedded = await providerFor(model, deps.config, deps.bindings, deps.overrides).embed(model.providerModel, [query]);
  } catch (error) {
    await hold.release();
    throw new ProblemError("ai_provider_error", { detail: "The embedding provider failed; nothing was charged.", cause: error instanceof ProviderError ? error : undefined });
  }
  const used = embedded.inputTokens ?? tokens;
  const cost = costMicroUsd(model, used, 0);
  await hold.settle(used, cost);
  deps.defer(() =>
    recordUsage(deps.db, {
      userId: ownerId, role: policy.role, model: model.id, endpoint: endpoint === "chat" ? "chat-retrieval" : "search",
      inputTokens: used, outputTokens: 0, costMicroUsd: cost, latencyMs: Date.now() - started, ttfbMs: null,
      outcome: "ok", errorCode: null, requestId: deps.requestId, at: Date.now(),
    }),
  );
  const hits = await vectorStoreFor(deps.config, deps.bindings).query({ ownerId, vector: embedded.vectors[0] ?? [], text: query, limit, documentIds: ids });
  if (hits.length === 0) return [];
  // Text from the owner's own rows: a hit for any other owner would find nothing here.
  const keys = hits.map((hit) => chunkId(hit.documentId, hit.chunk));
  const { results } = await deps.bindings.DB.prepare(`select id, text from ai_chunks where owner_id = ? and id in (${keys.map(() => "?").join(", ")})`)
    .bind(ownerId, ...keys)
    .all<{ id: string; text: string }>();
  const texts = new Map(results.map((row) => [row.id, row.text]));
  return hits.flatMap((hit) => {
    const text = texts.get(chunkId(hit.documentId, hit.chunk));
    return text === undefined ? [] : [{ document_id: hit.documentId, chunk: hit.chunk, score: hit.score, text }];
  });
}

export async function searchPassages(deps: GatewayDeps, input: { query: string; limit: number; document_ids?: string[] | undefined }) {
  const verdict = screenAll([input.query], deps.config.AI_SCREEN_THRESHOLD);
  if (verdict.verdict === "block") {
    throw new ProblemError("prompt_injection_suspected", { detail: "The query looks like a prompt injection.", extensions: { score: verdict.score, categories: verdict.categories } });
  }
  return { items: await search(deps, input.query, input.limit, input.document_ids ?? [], "search") };
}

/** Passages for a chat's `document_ids` (screened by the gateway before use). */
export async function retrieveForChat(deps: GatewayDeps, query: string, documentIds: string[]) {
  const passages = await search(deps, query, 5, documentIds, "chat");
  return passages.map((passage) => ({ documentId: passage.document_id, chunk: passage.chunk, text: passage.text }));
}
