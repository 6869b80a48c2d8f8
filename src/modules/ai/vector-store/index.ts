import type { Bindings } from "../../../bindings";
import type { Config } from "../../../config";
import { ProblemError } from "../../../lib/problem";
import { createD1VectorStore } from "./d1-local";
import type { VectorStore } from "./store";
import { createVectorizeStore } from "./vectorize";

export type { VectorStore } from "./store";

/** The configured store (AI_VECTOR_STORE); chosen here, once. */
export function vectorStoreFor(config: Pick<Config, "AI_VECTOR_STORE">, bindings: Bindings): VectorStore {
  if (config.AI_VECTOR_STORE === "vectorize") {
    if (!bindings.VECTORS) throw new ProblemError("ai_unavailable", { detail: "The Vectorize binding VECTORS is missing." });
    return createVectorizeStore(bindings.VECTORS);
  }
  return createD1VectorStore(bindings.DB);
}
