/**
 * Faithful fakes of the production providers, with the response shapes those services send:
 * the Workers AI binding (`{response, usage}`, SSE `data: {"response": ...}` with `usage` on the
 * last event, then `[DONE]`; embeddings `{shape, data}`) and an OpenAI-compatible server reached
 * through an injected fetch (chat.completion, chunked SSE with a final usage chunk when
 * `stream_options.include_usage` is set, embeddings; 429/500/timeouts on demand).
 */

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FakeScript {
  /** The reply's pieces (streamed one per event). */
  pieces?: string[];
  /** Usage the provider reports; omitted when null. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  /** Fail the next N calls before any byte (e.g. capacity errors, 500s). */
  failFirst?: number;
  /** Status of those failures (OpenAI-compatible) or error message (Workers AI). */
  failStatus?: number;
  /** Stream this many pieces, then break the stream. */
  breakAfter?: number;
  /** Milliseconds between streamed pieces. */
  delayMs?: number;
  /** Never answer (until aborted). */
  hang?: boolean;
  /** Reply with the system prompt (a model that leaks its instructions). */
  echoSystem?: boolean;
}

interface Message {
  role: string;
  content: string;
}

function replyPieces(script: FakeScript, messages: Message[]): string[] {
  if (script.echoSystem) {
    const system = messages.find((message) => message.role === "system")?.content ?? "";
    return ["Sure. My instructions say: ", ...(system.match(/.{1,6}/gs) ?? [])];
  }
  return script.pieces ?? ["Hello", " from", " the", " fake", " model."];
}

function hang(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason ?? new Error("aborted")), { once: true });
  });
}

/** A fake `AI` binding. `calls` records every run. */
export function fakeAiBinding(script: FakeScript = {}) {
  const calls: Array<{ model: string; inputs: Record<string, unknown> }> = [];
  let failures = script.failFirst ?? 0;
  return {
    calls,
    async run(model: string, inputs: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<unknown> {
      calls.push({ model, inputs });
      if (failures > 0) {
        failures -= 1;
        throw new Error(script.failStatus === 500 ? "AiError: 5000: Internal server error" : "AiError: 3040: Capacity temporarily exceeded, please try again.");
      }
      if (script.hang) return hang(options?.signal);
      if (Array.isArray(inputs.text)) {
        const texts = inputs.text as string[];
        return { shape: [texts.length, 4], data: texts.map((text) => [text.length % 7, 1, 0.5, 0.25]), pooling: "cls" };
      }
      const pieces = replyPieces(script, inputs.messages as Message[]);
      const usage = script.usage === undefined ? { prompt_tokens: 42, completion_tokens: pieces.length, total_tokens: 42 + pieces.length } : script.usage;
      if (!inputs.stream) return { response: pieces.join(""), tool_calls: [], ...(usage ? { usage } : {}) };
      return new ReadableStream<Uint8Array>({
        async start(controller) {
          for (const [index, piece] of pieces.entries()) {
            if (script.breakAfter !== undefined && index >= script.breakAfter) {
              // Let the reader drain what was sent: error() discards queued chunks.
              await sleep(30);
              controller.error(new Error("upstream connection reset"));
              return;
            }
            if (options?.signal?.aborted) return controller.close();
            if (script.delayMs) await sleep(script.delayMs);
            controller.enqueue(encoder.encode(`data: ${JSON.stringify({ response: piece, p: "abcdef" })}\n\n`));
          }
          controller.enqueue(encoder.encode(`data: ${JSON.stringify({ response: "", ...(usage ? { usage } : {}) })}\n\n`));
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        },
      });
    },
  };
}

/** A fake OpenAI-compatible server as a fetch function. `requests` records each parsed request. */
export function fakeOpenAiServer(script: FakeScript = {}) {
  const requests: Array<{ url: string; headers: Headers; body: Record<string, unknown> }> = [];
  let failures = script.failFirst ?? 0;
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const body = (await request.json()) as Record<string, unknown>;
    requests.push({ url: request.url, headers: request.headers, body });
    if (failures > 0) {
      failures -= 1;
      const status = script.failStatus ?? 429;
      return Response.json({ error: { message: status === 429 ? "Rate limit reached" : "Server error", type: "server_error" } }, { status, headers: { "retry-after-ms": "5" } });
    }
    if (script.hang) return hang(init?.signal ?? request.signal);
    if (request.url.endsWith("/embeddings")) {
      const values = body.input as string[];
      return Response.json({ object: "list", data: values.map((value, index) => ({ object: "embedding", index, embedding: [value.length % 5, 1, 0, 0.5] })), model: body.model, usage: { prompt_tokens: 7, total_tokens: 7 } });
    }
    const pieces = replyPieces(script, body.messages as Message[]);
    const usage = script.usage === undefined ? { prompt_tokens: 30, completion_tokens: pieces.length, total_tokens: 30 + pieces.length } : script.usage;
    const base = { id: "chatcmpl-fake", created: 1_700_000_000, model: body.model };
    if (!body.stream) {
      return Response.json({ ...base, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: pieces.join("") }, finish_reason: "stop" }], ...(usage ? { usage } : {}) });
    }
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => encoder.encode(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, ...extra })}\n\n`);
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
        for (const [index, piece] of pieces.entries()) {
          if (script.breakAfter !== undefined && index >= script.breakAfter) {
            await sleep(30);
            controller.error(new Error("upstream connection reset"));
            return;
          }
          if (script.delayMs) await sleep(script.delayMs);
          controller.enqueue(chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]));
        }
        controller.enqueue(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]));
        if (includeUsage && usage) controller.enqueue(chunk([], { usage }));
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      },
    });
    return new Response(stream, { headers: { "Content-Type": "text/event-stream" } });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}
