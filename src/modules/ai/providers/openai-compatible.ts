import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, embedMany, generateText, streamText } from "ai";
import type { AiProvider, ChatMessage, ChatRequest, StreamPart } from "./provider";
import { ProviderError } from "./provider";

export interface OpenAiCompatibleOptions {
  baseUrl: string;
  apiKey: string;
  /** Time allowed until the first byte of a stream, or for a whole non-streamed call. */
  timeoutMs: number;
  /** Retries on 429/5xx, with the AI SDK's backoff (Retry-After honoured); never after streamed bytes. */
  maxRetries: number;
  /** Injected in tests (a fake server); the global fetch otherwise. */
  fetch?: typeof fetch;
}

/**
 * Any OpenAI-compatible HTTP API (OpenAI, AI Gateway's compat endpoint, Ollama, vLLM, LM Studio)
 * through the AI SDK: its SSE parsing, `stream_options.include_usage`, and retries of the initial
 * request are maintained upstream instead of here.
 */
export function createOpenAiCompatibleProvider(options: OpenAiCompatibleOptions): AiProvider {
  const provider = createOpenAICompatible({
    name: "openai-compatible",
    baseURL: options.baseUrl.replace(/\/+$/, ""),
    apiKey: options.apiKey,
    includeUsage: true,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  return {
    async chat(request) {
      const deadline = timer(options.timeoutMs, request.signal);
      try {
        const result = await generateText({
          model: provider.chatModel(request.model),
          ...prompt(request.messages),
          maxOutputTokens: request.maxTokens,
          maxRetries: options.maxRetries,
          abortSignal: deadline.signal,
        });
        const { inputTokens, outputTokens } = result.usage;
        return { text: result.text, usage: inputTokens === undefined || outputTokens === undefined ? null : { inputTokens, outputTokens } };
      } catch (error) {
        throw toProviderError(error, deadline.timedOut());
      } finally {
        deadline.clear();
      }
    },

    stream(request) {
      return streamParts(provider, options, request);
    },

    async embed(model, texts, signal) {
      const deadline = timer(options.timeoutMs, signal);
      try {
        const result = await embedMany({ model: provider.embeddingModel(model), values: texts, maxRetries: options.maxRetries, abortSignal: deadline.signal });
        return { vectors: result.embeddings, inputTokens: result.usage?.tokens ?? null };
      } catch (error) {
        throw toProviderError(error, deadline.timedOut());
      } finally {
        deadline.clear();
      }
    },
  };
}

async function* streamParts(provider: ReturnType<typeof createOpenAICompatible>, options: OpenAiCompatibleOptions, request: ChatRequest): AsyncGenerator<StreamPart> {
  const deadline = timer(options.timeoutMs, request.signal);
  let failure: unknown;
  const result = streamText({
    model: provider.chatModel(request.model),
    ...prompt(request.messages),
    maxOutputTokens: request.maxTokens,
    maxRetries: options.maxRetries,
    abortSignal: deadline.signal,
    onError: ({ error }) => {
      failure = error;
    },
  });
  try {
    for await (const part of result.fullStream) {
      if (part.type === "text-delta") {
        // The timeout covers the wait for the first byte; after it the stream runs at the model's pace.
        deadline.clear();
        if (part.text) yield { type: "text", text: part.text };
      } else if (part.type === "finish") {
        const { inputTokens, outputTokens } = part.totalUsage;
        if (inputTokens !== undefined && outputTokens !== undefined) yield { type: "usage", usage: { inputTokens, outputTokens } };
      } else if (part.type === "error") {
        throw toProviderError(part.error, deadline.timedOut());
      } else if (part.type === "abort") {
        if (deadline.timedOut()) throw new ProviderError("timeout", "the provider did not answer in time");
        return;
      }
    }
    if (failure) throw toProviderError(failure, deadline.timedOut());
  } catch (error) {
    throw toProviderError(error, deadline.timedOut());
  } finally {
    deadline.clear();
  }
}

/** The AI SDK takes the system prompt apart from the conversation. */
function prompt(messages: ChatMessage[]) {
  const system = messages.filter((message) => message.role === "system").map((message) => message.content).join("\n\n");
  const conversation = messages.filter((message) => message.role !== "system").map((message) => ({ role: message.role as "user" | "assistant", content: message.content }));
  return { ...(system ? { system } : {}), messages: conversation };
}

/** An abort signal that fires after `ms` or when `outer` does; `clear()` stops the clock. */
function timer(ms: number, outer?: AbortSignal) {
  const controller = new AbortController();
  let expired = false;
  const handle = setTimeout(() => {
    expired = true;
    controller.abort(new ProviderError("timeout", `no answer within ${ms} ms`));
  }, ms);
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  if (outer?.aborted) controller.abort(outer.reason);
  return {
    signal: controller.signal,
    timedOut: () => expired,
    clear: () => {
      clearTimeout(handle);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}

/** Maps what the AI SDK throws (possibly wrapped in a RetryError) to the gateway's failures. */
export function toProviderError(error: unknown, timedOut: boolean): ProviderError {
  if (error instanceof ProviderError) return error;
  if (timedOut) return new ProviderError("timeout", "the provider did not answer in time", undefined, { cause: error });
  const last = lastError(error);
  if (APICallError.isInstance(last)) {
    const status = last.statusCode;
    if (status === 429) return new ProviderError("rate_limited", "the provider is rate limiting", status, { cause: error });
    if (status !== undefined && status >= 500) return new ProviderError("unavailable", `the provider answered ${status}`, status, { cause: error });
    return new ProviderError("bad_response", `the provider refused the request (${status ?? "no status"})`, status, { cause: error });
  }
  return new ProviderError("unavailable", last instanceof Error ? last.message : "the provider call failed", undefined, { cause: error });
}

function lastError(error: unknown): unknown {
  if (error && typeof error === "object" && "lastError" in error) return (error as { lastError: unknown }).lastError;
  return error;
}
