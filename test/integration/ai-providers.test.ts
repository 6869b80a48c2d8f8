import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { bindingsWith, callApp, expectProblem } from "../helpers/app-env";
import { API, createUser, randomIp, type TestUser } from "../helpers/auth";
import { fakeAiBinding, fakeOpenAiServer, type FakeScript } from "../helpers/ai-fakes";
import { parseSse, usageRows } from "../helpers/ai";

const WORKERS_AI_MODELS = JSON.stringify([
  { id: "llama", provider: "workers-ai", provider_model: "@cf/meta/llama-3.1-8b-instruct", kind: "chat", input_usd_per_mtok: 0.282, output_usd_per_mtok: 0.827, max_output_tokens: 256 },
  { id: "local/embed", provider: "local", kind: "embedding", input_usd_per_mtok: 0.02 },
]);
const OPENAI_MODELS = JSON.stringify([{ id: "gpt", provider: "openai-compatible", provider_model: "gpt-4o-mini", kind: "chat", input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.6 }]);

function chatRequest(user: TestUser, body: Record<string, unknown>): Request {
  return new Request(`${API}/ai/chat`, {
    method: "POST",
    headers: { Authorization: `Bearer ${user.accessToken}`, "Content-Type": "application/json", "CF-Connecting-IP": randomIp() },
    body: JSON.stringify({ messages: [{ role: "user", content: "Say hello to the team." }], ...body }),
  });
}

const workersAi = (script: FakeScript) => ({ AI_MODELS: WORKERS_AI_MODELS, AI: fakeAiBinding(script), AI_OPENAI_MAX_RETRIES: "1" });

async function budgetUsed(user: TestUser, overrides: Record<string, unknown>): Promise<number> {
  const response = await callApp(`${API}/ai/usage`, { headers: { Authorization: `Bearer ${user.accessToken}` } }, { env: overrides });
  return ((await response.json()) as { budgets: { daily_tokens: { used: number; reserved: number } } }).budgets.daily_tokens.used;
}

describe("gateway over Workers AI (fake binding)", () => {
  it("uses the provider's usage and prices it in micro-dollars", async () => {
    const user = await createUser();
    const overrides = workersAi({ pieces: ["Hello", " team"], usage: { prompt_tokens: 1000, completion_tokens: 2000 } });
    const response = await callApp(chatRequest(user, {}), undefined, { env: overrides });
    const body = (await response.json()) as { content: string; model: string; usage: unknown; cost_usd: number };
    expect(response.status).toBe(200);
    // 1000 × 0.282 + 2000 × 0.827 micro-dollars = 282 + 1654.
    expect(body).toMatchObject({ content: "Hello team", model: "llama", usage: { input_tokens: 1000, output_tokens: 2000 }, cost_usd: 0.001936 });
    const [row] = await usageRows(user.id);
    expect(row).toMatchObject({ cost_micro_usd: 1936, model: "llama", outcome: "ok" });
    expect(overrides.AI.calls[0]!.model).toBe("@cf/meta/llama-3.1-8b-instruct");
  });

  it("maps provider failures to problems and charges nothing", async () => {
    const user = await createUser();
    const busy = workersAi({ failFirst: 5 });
    const refused = await callApp(chatRequest(user, {}), undefined, { env: busy });
    await expectProblem(refused, 503, "ai_provider_busy");
    expect(busy.AI.calls).toHaveLength(2);
    const broken = workersAi({ failFirst: 5, failStatus: 500 });
    await expectProblem(await callApp(chatRequest(user, { stream: true }), undefined, { env: broken }), 502, "ai_provider_error");
    const rows = await usageRows(user.id, 2);
    expect(rows.map((row) => [row.outcome, row.cost_micro_usd, row.input_tokens])).toEqual([["error", 0, 0], ["error", 0, 0]]);
    expect(await budgetUsed(user, busy)).toBe(0);
  });

  it("cuts a stream that reveals the canary with an error event, charges what was generated, audits it", async () => {
    const user = await createUser();
    const response = await callApp(chatRequest(user, { stream: true }), undefined, { env: workersAi({ echoSystem: true, usage: null }) });
    const text = await response.text();
    const events = parseSse(text);
    expect(events.at(-1)).toMatchObject({ event: "error", data: { code: "prompt_injection_suspected" } });
    expect(events.some((event) => event.event === "done")).toBe(false);
    expect(text).not.toMatch(/cnry-[0-9a-f]{18}/);
    expect(text).not.toMatch(/[0-9a-f]{18}/);
    const [row] = await usageRows(user.id);
    expect(row).toMatchObject({ outcome: "blocked", error_code: "canary_revealed" });
    expect(row!.output_tokens).toBeGreaterThan(0);
    const audit = await env.DB.prepare("select action from audit_logs where actor_user_id = ? and action = 'ai.canary_revealed'").bind(user.id).first();
    expect(audit).not.toBeNull();
  });

  it("withholds a non-streamed reply that reveals the canary (422)", async () => {
    const user = await createUser();
    const response = await callApp(chatRequest(user, {}), undefined, { env: workersAi({ echoSystem: true }) });
    const problem = await expectProblem(response, 422, "prompt_injection_suspected");
    expect(problem.categories).toEqual(["system_prompt_exfiltration"]);
  });

  it("charges a stream that fails midway for the text generated (no provider usage)", async () => {
    const user = await createUser();
    const overrides = workersAi({ pieces: ["one ", "two ", "six ", "ten"], breakAfter: 2, usage: null });
    const events = parseSse(await (await callApp(chatRequest(user, { stream: true }), undefined, { env: overrides })).text());
    expect(events.filter((event) => event.event === "delta").map((event) => event.data.text).join("")).toBe("one two ");
    expect(events.at(-1)).toMatchObject({ event: "error", data: { code: "ai_provider_error", usage: { output_tokens: 2 } } });
    const [row] = await usageRows(user.id);
    expect(row).toMatchObject({ outcome: "error", output_tokens: 2 });
    expect(row!.input_tokens).toBeGreaterThan(0);
    expect(await budgetUsed(user, overrides)).toBe(row!.input_tokens + 2);
  });

  it("charges an aborted stream for what was generated, not the reservation", async () => {
    const user = await createUser();
    const overrides = workersAi({ pieces: Array.from({ length: 40 }, (_, index) => `w${index} `), delayMs: 15, usage: null });
    const ctx = createExecutionContext();
    const response = await createApp().fetch(chatRequest(user, { stream: true, max_tokens: 200 }), bindingsWith(overrides), ctx);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("event: delta");
    await reader.cancel();
    await waitOnExecutionContext(ctx);
    const [row] = await usageRows(user.id);
    expect(row!.outcome).toBe("aborted");
    expect(row!.output_tokens).toBeGreaterThan(0);
    expect(row!.output_tokens).toBeLessThan(40);
    expect(await budgetUsed(user, overrides)).toBe(row!.input_tokens + row!.output_tokens);
  });
});

describe("gateway over an OpenAI-compatible API (fake server through AI_HTTP)", () => {
  const openAi = (script: FakeScript) => {
    const server = fakeOpenAiServer(script);
    return { server, env: { AI_MODELS: OPENAI_MODELS, AI_OPENAI_BASE_URL: "https://llm.example.com/v1", AI_OPENAI_API_KEY: "sk-test", AI_OPENAI_MAX_RETRIES: "1", AI_HTTP: { fetch: server.fetch } } };
  };

  it("streams through the AI SDK with the server's usage", async () => {
    const user = await createUser();
    const { server, env: overrides } = openAi({ pieces: ["One", " two"], usage: { prompt_tokens: 20, completion_tokens: 2 } });
    const events = parseSse(await (await callApp(chatRequest(user, { stream: true }), undefined, { env: overrides })).text());
    expect(events.at(-1)).toMatchObject({ event: "done", data: { model: "gpt", usage: { input_tokens: 20, output_tokens: 2 } } });
    expect(server.requests[0]!.body).toMatchObject({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true } });
  });

  it("a server that keeps answering 429 is a 503 with nothing charged", async () => {
    const user = await createUser();
    const { server, env: overrides } = openAi({ failFirst: 9, failStatus: 429 });
    await expectProblem(await callApp(chatRequest(user, {}), undefined, { env: overrides }), 503, "ai_provider_busy");
    expect(server.requests).toHaveLength(2);
    expect(await budgetUsed(user, overrides)).toBe(0);
  });

  it("a silent server is a 504 after AI_OPENAI_TIMEOUT_MS", async () => {
    const user = await createUser();
    const { env: overrides } = openAi({ hang: true });
    await expectProblem(await callApp(chatRequest(user, {}), undefined, { env: { ...overrides, AI_OPENAI_TIMEOUT_MS: "150", AI_OPENAI_MAX_RETRIES: "0" } }), 504, "timeout");
  });
});
