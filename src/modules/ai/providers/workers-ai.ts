import type { AiProvider, ChatRequest, StreamPart, TokenUsage } from "./provider";
import { ProviderError } from "./provider";
import { sseData } from "./sse";

/** The slice of the Workers AI binding this gateway uses (typed loosely: model ids are configuration). */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

interface WorkersAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

export interface WorkersAiOptions {
  /** Retries of a call that failed before any streamed byte (capacity errors, 5xx). */
  maxRetries: number;
  /**
   * Time allowed for a whole call (retries included; for a stream, until the binding hands over
   * its body). Without it a stuck binding would hold the caller's budget reservation until the
   * reservation expires, and the request would end in the generic request timeout, unrecorded.
   */
  timeoutMs: number;
  /** Backoff base in ms (doubled per attempt). */
  backoffMs?: number;
}

/**
 * Workers AI through its binding, directly: the binding is already a typed RPC client, so the
 * AI SDK adapter (frozen upstream) would add a dependency and no behaviour. Response shapes:
 * `{ response, usage: { prompt_tokens, completion_tokens } }`; streamed, SSE events
 * `data: {"response":"..."}` with `usage` on the last one, then `data: [DONE]`; embeddings
 * `{ shape, data: number[][] }`.
 */
export function createWorkersAiProvider(binding: AiBinding, options: WorkersAiOptions): AiProvider {
  const withRetries = <T>(run: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal) =>
    withDeadline(options.timeoutMs, outer, (signal) => retry(() => run(signal), options.maxRetries, options.backoffMs ?? 200));
  return {
    async chat(request) {
      const output = await withRetries((signal) => binding.run(request.model, { messages: request.messages, max_tokens: request.maxTokens }, { signal }), request.signal);
      if (!output || typeof output !== "object" || typeof (output as { response?: unknown }).response !== "string") {
        throw new ProviderError("bad_response", "Workers AI returned no text");
      }
      const { response, usage } = output as { response: string; usage?: WorkersAiUsage };
      return { text: response, usage: toUsage(usage) };
    },

    stream(request) {
      return streamParts(binding, request, withRetries);
    },

    async embed(model, texts, signal) {
      const output = (await withRetries((deadline) => binding.run(model, { text: texts }, { signal: deadline }), signal)) as { data?: unknown; response?: unknown; usage?: WorkersAiUsage };
      const vectors = Array.isArray(output?.data) ? output.data : output?.response;
      if (!Array.isArray(vectors) || vectors.length !== texts.length) throw new ProviderError("bad_response", "Workers AI returned no embeddings");
      return { vectors: vectors as number[][], inputTokens: output.usage?.prompt_tokens ?? null };
    },
  };
}

type Retrying = <T>(run: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal) => Promise<T>;

async function* streamParts(binding: AiBinding, request: ChatRequest, withRetries: Retrying): AsyncGenerator<StreamPart> {
  const body = await withRetries(async (signal) => {
    const output = await binding.run(request.model, { messages: request.messages, max_tokens: request.maxTokens, stream: true }, { signal });
    if (!(output instanceof ReadableStream)) throw new ProviderError("bad_response", "Workers AI did not stream");
    return output as ReadableStream<Uint8Array>;
  }, request.signal);
  for await (const data of sseData(body)) {
    if (data === "[DONE]") return;
    let event: { response?: unknown; usage?: WorkersAiUsage };
    try {
      event = JSON.parse(data) as typeof event;
    } catch {
      throw new ProviderError("bad_response", "Workers AI sent an unreadable event");
    }
    if (typeof event.response === "string" && event.response) yield { type: "text", text: event.response };
    const usage = toUsage(event.usage);
    if (usage) yield { type: "usage", usage };
  }
}

function toUsage(usage: WorkersAiUsage | undefined): TokenUsage | null {
  if (!usage || typeof usage.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") return null;
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}

/** Workers AI errors carry codes in their message: 3040 capacity, 429 rate limits; 5xx upstream. */
export function classifyWorkersAiError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/\b(3040|429)\b|capacity|rate limit/i.test(message)) return new ProviderError("rate_limited", "Workers AI is over capacity", 429, { cause: error });
  if (/abort|timed? ?out/i.test(message)) return new ProviderError("timeout", "Workers AI did not answer in time", undefined, { cause: error });
  return new ProviderError("unavailable", "Workers AI failed", 502, { cause: error });
}

/**
 * Runs `run` with a signal that aborts after `ms` or with `outer`, and gives up at the deadline
 * even if the binding ignores the signal: a timeout is a ProviderError("timeout"), never retried.
 * An `outer` abort (client gone) ends the call with the outer reason, as before.
 */
async function withDeadline<T>(ms: number, outer: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const failure = new ProviderError("timeout", `Workers AI did not answer within ${ms} ms`);
      controller.abort(failure);
      reject(failure);
    }, ms);
  });
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  if (outer?.aborted) controller.abort(outer.reason);
  try {
    return await Promise.race([run(controller.signal), expired]);
  } finally {
    // The outer listener stays: a streamed body outlives this call, and a client leaving
    // mid-stream must still abort the binding's stream through `controller`.
    clearTimeout(timer);
  }
}

async function retry<T>(run: () => Promise<T>, retries: number, backoffMs: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const failure = classifyWorkersAiError(error);
      const retryable = failure.failure === "rate_limited" || failure.failure === "unavailable";
      if (!retryable || attempt >= retries) throw failure;
      await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** attempt));
    }
  }
}
