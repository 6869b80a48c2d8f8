import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { captureLogs, expectProblem } from "../helpers/app-env";
import { createUser, type TestUser } from "../helpers/auth";
import { fakeAiBinding } from "../helpers/ai-fakes";
import { usageRows } from "../helpers/ai";
import { expectJson } from "../helpers/rbac";
import { callFaulty, count, jsonPost } from "../helpers/faults";
import { upload } from "./files-fixtures";

/**
 * The AI gateway's own dependencies failing: the ingestion queue refusing a send, a provider that
 * never answers. As in faults.test.ts, each case checks what the client sees, that nothing partial
 * is left (document rows, stored objects), that no budget is charged or left held for work that
 * failed, and that the request is logged with its error code.
 */
const WORKERS_AI_MODELS = JSON.stringify([
  { id: "llama", provider: "workers-ai", provider_model: "@cf/meta/llama-3.1-8b-instruct", kind: "chat", input_usd_per_mtok: 0.282, output_usd_per_mtok: 0.827, max_output_tokens: 256 },
  { id: "local/embed", provider: "local", kind: "embedding", input_usd_per_mtok: 0.02 },
]);

let logs: ReturnType<typeof captureLogs>;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

const requestLines = () => logs.json().filter((line) => line.message === "request");
const bearer = (user: TestUser) => ({ Authorization: `Bearer ${user.accessToken}` });

interface Budget {
  used: number;
  reserved: number;
}

/** The caller's token and cost budgets as GET /ai/usage reports them. */
async function budgets(user: TestUser): Promise<{ daily_tokens: Budget; monthly_cost_usd: Budget }> {
  const response = await callFaulty("/api/v1/ai/usage", { headers: bearer(user) });
  return (await expectJson<{ budgets: { daily_tokens: Budget; monthly_cost_usd: Budget } }>(response, 200)).budgets;
}

/** Nothing used and nothing held: a failed call must leave the budgets as they were. */
async function expectNothingCharged(user: TestUser): Promise<void> {
  // The hold of a request that hit the request timeout is released by the handler still running
  // behind the 504 (within PROVIDER_MARGIN_MS of it): wait for it rather than race it.
  let current = await budgets(user);
  for (let attempt = 0; attempt < 50 && current.daily_tokens.reserved !== 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    current = await budgets(user);
  }
  expect(current.daily_tokens).toMatchObject({ used: 0, reserved: 0 });
  expect(current.monthly_cost_usd).toMatchObject({ used: 0, reserved: 0 });
}

async function uploadMarkdown(user: TestUser): Promise<string> {
  const response = await upload(user.accessToken, new TextEncoder().encode("# Handbook\n\nTravel requests go through the portal."), { name: "handbook.md", type: "text/markdown" });
  return (await expectJson<{ id: string }>(response, 201)).id;
}

describe("the ingestion queue refusing sends", () => {
  it("FAULTS=queue:1: POST /ai/documents answers 503, keeps no document row, leaves the file alone, charges nothing", async () => {
    const user = await createUser();
    const fileId = await uploadMarkdown(user);
    const response = await callFaulty("/api/v1/ai/documents", jsonPost({ file_id: fileId }, bearer(user)), { FAULTS: "queue:1" });
    await expectProblem(response, 503, "service_unavailable");
    expect(response.headers.get("Retry-After")).toBe("5");
    expect(await count("select count(*) as n from ai_documents where file_id = ?", fileId)).toBe(0);
    // The upload itself is the user's and stays whole: its row and its one object, nothing more.
    expect(await count("select count(*) as n from files where owner_id = ?", user.id)).toBe(1);
    expect((await env.FILES.list({ prefix: `files/${user.id}/` })).objects).toHaveLength(1);
    const line = requestLines().find((entry) => entry.route === "/api/v1/ai/documents");
    expect(line).toMatchObject({ status: 503, error_code: "service_unavailable" });
    expect(JSON.stringify(line)).toContain("Queue send failed");
    await expectNothingCharged(user);

    // Nothing was left behind that blocks a retry (a stale `queued` row would answer 409 forever).
    const retried = await callFaulty("/api/v1/ai/documents", jsonPost({ file_id: fileId }, bearer(user)));
    expect(retried.status).toBe(202);
    expect(await count("select count(*) as n from ai_documents where file_id = ?", fileId)).toBe(1);
  });

  it("a queue failing with any message (here the runtime's back-pressure error) is the same 503, in production settings too", async () => {
    const user = await createUser();
    const fileId = await uploadMarkdown(user);
    const refusing = {
      send: () => Promise.reject(new Error("Queue is overloaded. Please back off.")),
      sendBatch: () => Promise.reject(new Error("Queue is overloaded. Please back off.")),
    };
    const response = await callFaulty("/api/v1/ai/documents", jsonPost({ file_id: fileId }, bearer(user)), { ENVIRONMENT: "test", AI_DOCUMENTS_QUEUE: refusing });
    await expectProblem(response, 503, "service_unavailable");
    expect(await count("select count(*) as n from ai_documents where file_id = ?", fileId)).toBe(0);
  });
});

describe("an AI provider that never answers", () => {
  const chat = (user: TestUser, body: Record<string, unknown> = {}) =>
    jsonPost({ messages: [{ role: "user", content: "Summarise the travel policy." }], ...body }, bearer(user));
  const hanging = (extra: Record<string, unknown> = {}) => ({ AI_MODELS: WORKERS_AI_MODELS, AI: fakeAiBinding({ hang: true }), AI_OPENAI_MAX_RETRIES: "0", ...extra });

  async function expectTimedOutCall(user: TestUser, response: Response): Promise<void> {
    await expectProblem(response, 504, "timeout");
    const [row] = await usageRows(user.id);
    expect(row).toMatchObject({ endpoint: "chat", outcome: "error", error_code: "timeout", input_tokens: 0, output_tokens: 0, cost_micro_usd: 0 });
    await expectNothingCharged(user);
    expect(requestLines().find((line) => line.route === "/api/v1/ai/chat")).toMatchObject({ status: 504, error_code: "timeout" });
  }

  it("Workers AI past AI_OPENAI_TIMEOUT_MS: 504, the hold released, the failure recorded and logged", async () => {
    const user = await createUser();
    const response = await callFaulty("/api/v1/ai/chat", chat(user), hanging({ AI_OPENAI_TIMEOUT_MS: "200" }));
    await expectTimedOutCall(user, response);
  });

  it("a provider timeout longer than the request's budget is cut to it, so the hold is still released", async () => {
    const user = await createUser();
    // The provider would wait 30 s; the request has 1.5 s. The call must end inside the request.
    const response = await callFaulty("/api/v1/ai/chat", chat(user), hanging({ AI_OPENAI_TIMEOUT_MS: "30000", REQUEST_TIMEOUT_MS: "1500" }));
    await expectTimedOutCall(user, response);
  });

  it("a streamed chat whose provider never starts is a 504 problem, not an empty stream", async () => {
    const user = await createUser();
    const response = await callFaulty("/api/v1/ai/chat", chat(user, { stream: true }), hanging({ AI_OPENAI_TIMEOUT_MS: "200" }));
    expect(response.headers.get("Content-Type")).toContain("application/problem+json");
    await expectTimedOutCall(user, response);
  });

  it("chaos mode FAULTS=ai:1 fails every provider call the same way", async () => {
    const user = await createUser();
    const response = await callFaulty("/api/v1/ai/chat", chat(user), { FAULTS: "ai:1" });
    await expectTimedOutCall(user, response);
  });
});
