import { toUsd } from "./ai.cost";
import { canaryLeak, chargeable, fail, finish, prepareCall, type CallSpec, type GatewayDeps, type PreparedCall } from "./ai.gateway";
import { ProviderError, type StreamPart, type TokenUsage } from "./providers/provider";
import { canaryGuard } from "./screening/canary";

const encoder = new TextEncoder();

function sse(event: "delta" | "done" | "error", data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * A streamed chat: `delta` events with text as the provider produces it, then one `done` event
 * with usage and cost, or one `error` event. The first part is awaited before answering, so a
 * provider that fails before its first byte is a plain problem response with nothing charged.
 * After that the stream is charged for what was generated, however it ends: the provider's usage
 * when it came, otherwise a count of the streamed text (client gone, provider failure, canary).
 */
export async function streamChat(deps: GatewayDeps, spec: CallSpec): Promise<Response> {
  const call = await prepareCall(deps, spec);
  const controller = new AbortController();
  const parts = call.provider.stream({ model: call.model.providerModel, messages: call.messages, maxTokens: call.maxTokens, signal: controller.signal })[Symbol.asyncIterator]();
  let first: IteratorResult<StreamPart>;
  try {
    first = await parts.next();
  } catch (error) {
    throw await fail(call, error);
  }
  const ttfbMs = Date.now() - call.started;
  let cancelled = false;
  let output: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      output = streamController;
    },
    cancel() {
      cancelled = true;
      controller.abort(new Error("client disconnected"));
    },
  });
  const send = (chunk: Uint8Array): boolean => {
    if (cancelled) return false;
    try {
      output.enqueue(chunk);
      return true;
    } catch {
      cancelled = true;
      return false;
    }
  };
  deps.defer(() => pump(call, parts, first, { send, close: () => !cancelled && output.close(), cancelled: () => cancelled, ttfbMs }));
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
  });
}

interface Sink {
  send(chunk: Uint8Array): boolean;
  close(): void;
  cancelled(): boolean;
  ttfbMs: number;
}

async function pump(call: PreparedCall, parts: AsyncIterator<StreamPart>, first: IteratorResult<StreamPart>, sink: Sink): Promise<void> {
  const guard = canaryGuard(call.canary);
  let generated = "";
  let usage: TokenUsage | null = null;
  let next = first;
  try {
    while (!next.done) {
      const part = next.value;
      if (part.type === "usage") usage = part.usage;
      else {
        generated += part.text;
        const { release, leaked } = guard.push(part.text);
        if (leaked) {
          await parts.return?.();
          finish(call, "blocked", chargeable(call, usage, generated), { ttfbMs: sink.ttfbMs, errorCode: "canary_revealed" });
          const problem = canaryLeak(call);
          sink.send(sse("error", { code: problem.code, detail: problem.message }));
          sink.close();
          return;
        }
        if (release && !sink.send(sse("delta", { text: release }))) break;
      }
      if (sink.cancelled()) break;
      next = await parts.next();
    }
  } catch (error) {
    const failure = error instanceof ProviderError ? error : new ProviderError("unavailable", "the stream failed", undefined, { cause: error });
    if (generated === "" && usage === null && !sink.cancelled()) {
      // Nothing was generated: nothing is charged, as for a failure before the first byte.
      const problem = await fail(call, failure);
      sink.send(sse("error", { code: problem.code, detail: problem.message }));
      sink.close();
      return;
    }
    const outcome = sink.cancelled() ? "aborted" : "error";
    const charged = chargeable(call, usage, generated);
    const cost = finish(call, outcome, charged, { ttfbMs: sink.ttfbMs, errorCode: sink.cancelled() ? "client_disconnected" : failure.failure, completion: generated });
    sink.send(sse("error", { code: "ai_provider_error", detail: "The AI provider failed mid-stream; you were charged for the text generated.", usage: usageJson(charged), cost_usd: toUsd(cost) }));
    sink.close();
    return;
  }
  if (sink.cancelled()) {
    await parts.return?.().catch(() => undefined);
    finish(call, "aborted", chargeable(call, usage, generated), { ttfbMs: sink.ttfbMs, errorCode: "client_disconnected", completion: generated });
    return;
  }
  const rest = guard.flush();
  if (rest) sink.send(sse("delta", { text: rest }));
  const charged = chargeable(call, usage, generated);
  const cost = finish(call, "ok", charged, { ttfbMs: sink.ttfbMs, completion: generated });
  sink.send(sse("done", { id: call.deps.requestId, model: call.model.id, usage: usageJson(charged), cost_usd: toUsd(cost), screening: call.screening }));
  sink.close();
}

const usageJson = (usage: TokenUsage) => ({ input_tokens: usage.inputTokens, output_tokens: usage.outputTokens });
