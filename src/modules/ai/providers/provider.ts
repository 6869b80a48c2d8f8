/**
 * The one interface every AI provider implements (local, Workers AI, OpenAI-compatible). The
 * gateway (budgets, screening, usage) only ever talks to this, so a provider is a file, not a
 * branch in a handler.
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  /** The provider's model name. */
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  /** Ends the provider call (client gone, timeout). */
  signal?: AbortSignal;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  text: string;
  /** The provider's own count when it reported one; null means the gateway estimates. */
  usage: TokenUsage | null;
}

/** One streamed piece: text, or the usage the provider reports at the end. */
export type StreamPart = { type: "text"; text: string } | { type: "usage"; usage: TokenUsage };

export interface EmbeddingResult {
  vectors: number[][];
  /** Input tokens the provider counted, or null. */
  inputTokens: number | null;
}

export interface AiProvider {
  chat(request: ChatRequest): Promise<ChatResult>;
  /**
   * Streams a completion. Failures before the first part are thrown by the first `next()` (and
   * are retried by providers that retry); failures after it end the iteration with an error.
   */
  stream(request: ChatRequest): AsyncIterable<StreamPart>;
  embed(model: string, texts: string[], signal?: AbortSignal): Promise<EmbeddingResult>;
}

/** Why a provider call failed, mapped to a problem by the gateway. */
export type ProviderFailure = "rate_limited" | "unavailable" | "timeout" | "bad_response";

export class ProviderError extends Error {
  constructor(
    readonly failure: ProviderFailure,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ProviderError";
  }
}
