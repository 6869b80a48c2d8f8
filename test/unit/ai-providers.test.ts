import { describe, expect, it } from "vitest";
import { createLocalProvider, embedText } from "../../src/modules/ai/providers/local";
import { createOpenAiCompatibleProvider } from "../../src/modules/ai/providers/openai-compatible";
import { ProviderError, type AiProvider, type StreamPart } from "../../src/modules/ai/providers/provider";
import { createWorkersAiProvider } from "../../src/modules/ai/providers/workers-ai";
import { fakeAiBinding, fakeOpenAiServer, type FakeScript } from "../helpers/ai-fakes";

const request = { model: "m", messages: [{ role: "system" as const, content: "Be brief." }, { role: "user" as const, content: "Hi there" }], maxTokens: 50 };

async function collect(provider: AiProvider): Promise<{ parts: StreamPart[]; error?: unknown }> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of provider.stream(request)) parts.push(part);
    return { parts };
  } catch (error) {
    return { parts, error };
  }
}

const openAi = (script: FakeScript, options: { timeoutMs?: number; maxRetries?: number } = {}) => {
  const server = fakeOpenAiServer(script);
  const provider = createOpenAiCompatibleProvider({ baseUrl: "https://llm.example.com/v1/", apiKey: "sk-test", timeoutMs: options.timeoutMs ?? 2_000, maxRetries: options.maxRetries ?? 2, fetch: server.fetch });
  return { server, provider };
};

describe("OpenAI-compatible provider (AI SDK) against a fake server", () => {
  it("sends the model, system prompt, max_tokens and key; returns text and the server's usage", async () => {
    const { server, provider } = openAi({ pieces: ["Hello", " world"], usage: { prompt_tokens: 11, completion_tokens: 2 } });
    const result = await provider.chat(request);
    expect(result).toEqual({ text: "Hello world", usage: { inputTokens: 11, outputTokens: 2 } });
    const [sent] = server.requests;
    expect(sent!.url).toBe("https://llm.example.com/v1/chat/completions");
    expect(sent!.headers.get("authorization")).toBe("Bearer sk-test");
    expect(sent!.body).toMatchObject({ model: "m", max_tokens: 50, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi there" }] });
  });

  it("streams with stream_options.include_usage and yields the final usage chunk", async () => {
    const { server, provider } = openAi({ pieces: ["a", "b", "c"], usage: { prompt_tokens: 9, completion_tokens: 3 } });
    const { parts, error } = await collect(provider);
    expect(error).toBeUndefined();
    expect(parts).toEqual([{ type: "text", text: "a" }, { type: "text", text: "b" }, { type: "text", text: "c" }, { type: "usage", usage: { inputTokens: 9, outputTokens: 3 } }]);
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("retries 429 and 500 before the first byte, then succeeds", async () => {
    const limited = openAi({ failFirst: 2, failStatus: 429 });
    expect((await limited.provider.chat(request)).text).toBe("Hello from the fake model.");
    expect(limited.server.requests).toHaveLength(3);
    const broken = openAi({ failFirst: 1, failStatus: 500 });
    const { parts } = await collect(broken.provider);
    expect(parts.filter((part) => part.type === "text")).toHaveLength(5);
    expect(broken.server.requests).toHaveLength(2);
  });

  it("maps exhausted retries and refusals to provider failures", async () => {
    const limited = openAi({ failFirst: 5, failStatus: 429 }, { maxRetries: 1 });
    await expect(limited.provider.chat(request)).rejects.toMatchObject({ failure: "rate_limited", status: 429 });
    expect(limited.server.requests).toHaveLength(2);
    const broken = openAi({ failFirst: 5, failStatus: 503 }, { maxRetries: 0 });
    await expect(broken.provider.chat(request)).rejects.toMatchObject({ failure: "unavailable" });
    const refused = openAi({ failFirst: 1, failStatus: 400 });
    await expect(refused.provider.chat(request)).rejects.toMatchObject({ failure: "bad_response" });
    expect(refused.server.requests).toHaveLength(1);
  });

  it("times out a silent server", async () => {
    const { provider } = openAi({ hang: true }, { timeoutMs: 100, maxRetries: 0 });
    await expect(provider.chat(request)).rejects.toMatchObject({ failure: "timeout" });
    const { error } = await collect(provider);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).failure).toBe("timeout");
  });

  it("never retries after the first streamed byte", async () => {
    const { server, provider } = openAi({ breakAfter: 2 });
    const { parts, error } = await collect(provider);
    expect(parts.map((part) => (part.type === "text" ? part.text : ""))).toEqual(["Hello", " from"]);
    expect(error).toBeInstanceOf(ProviderError);
    expect(server.requests).toHaveLength(1);
  });

  it("embeds through /embeddings with the server's token count", async () => {
    const { server, provider } = openAi({});
    const result = await provider.embed("e", ["one", "three"]);
    expect(result.vectors).toHaveLength(2);
    expect(result.inputTokens).toBe(7);
    expect(server.requests[0]!.url).toBe("https://llm.example.com/v1/embeddings");
  });
});

describe("Workers AI provider against a fake binding", () => {
  it("returns the binding's text and usage", async () => {
    const binding = fakeAiBinding({ pieces: ["Hi", "!"], usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const provider = createWorkersAiProvider(binding, { timeoutMs: 5_000, maxRetries: 0 });
    expect(await provider.chat(request)).toEqual({ text: "Hi!", usage: { inputTokens: 5, outputTokens: 2 } });
    expect(binding.calls[0]).toMatchObject({ model: "m", inputs: { max_tokens: 50, messages: request.messages } });
  });

  it("parses the SSE stream, with usage on the last event", async () => {
    const provider = createWorkersAiProvider(fakeAiBinding({ pieces: ["x", "y"], usage: { prompt_tokens: 3, completion_tokens: 2 } }), { timeoutMs: 5_000, maxRetries: 0 });
    const { parts } = await collect(provider);
    expect(parts).toEqual([{ type: "text", text: "x" }, { type: "text", text: "y" }, { type: "usage", usage: { inputTokens: 3, outputTokens: 2 } }]);
  });

  it("retries capacity errors before the first byte; maps what is left", async () => {
    const binding = fakeAiBinding({ failFirst: 1 });
    expect((await createWorkersAiProvider(binding, { timeoutMs: 5_000, maxRetries: 1, backoffMs: 1 }).chat(request)).text).toContain("fake");
    expect(binding.calls).toHaveLength(2);
    await expect(createWorkersAiProvider(fakeAiBinding({ failFirst: 3 }), { timeoutMs: 5_000, maxRetries: 0 }).chat(request)).rejects.toMatchObject({ failure: "rate_limited" });
    await expect(createWorkersAiProvider(fakeAiBinding({ failFirst: 3, failStatus: 500 }), { timeoutMs: 5_000, maxRetries: 0 }).chat(request)).rejects.toMatchObject({ failure: "unavailable" });
  });

  it("embeds with the {shape, data} response", async () => {
    const result = await createWorkersAiProvider(fakeAiBinding(), { timeoutMs: 5_000, maxRetries: 0 }).embed("@cf/baai/bge-m3", ["a", "bb"]);
    expect(result.vectors).toHaveLength(2);
  });

  it("gives up at its timeout even when the binding ignores the abort signal, and does not retry it", async () => {
    let calls = 0;
    const deaf = { run: () => { calls += 1; return new Promise<never>(() => {}); } };
    const provider = createWorkersAiProvider(deaf, { timeoutMs: 50, maxRetries: 2, backoffMs: 1 });
    await expect(provider.chat(request)).rejects.toMatchObject({ failure: "timeout" });
    await expect(provider.embed("@cf/baai/bge-m3", ["a"])).rejects.toMatchObject({ failure: "timeout" });
    expect(calls).toBe(2);
  });
});

describe("local provider", () => {
  it("is deterministic, honours max tokens and streams what it answers", async () => {
    const provider = createLocalProvider();
    const first = await provider.chat(request);
    expect(await provider.chat(request)).toEqual(first);
    const short = await provider.chat({ ...request, messages: [{ role: "user", content: "word ".repeat(500) }], maxTokens: 5 });
    expect(short.usage!.outputTokens).toBeLessThanOrEqual(5);
    const { parts } = await collect(provider);
    expect(parts.filter((part) => part.type === "text").map((part) => (part as { text: string }).text).join("")).toBe(first.text);
  });

  it("embeds related texts closer than unrelated ones", () => {
    const dot = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);
    const invoice = embedText("How do I pay an overdue invoice?");
    expect(dot(invoice, embedText("Paying invoices that are overdue"))).toBeGreaterThan(dot(invoice, embedText("The hiking trail follows the river")) + 0.2);
  });
});
