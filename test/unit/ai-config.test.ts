import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/env";
import { costMicroUsd } from "../../src/modules/ai/ai.cost";
import { combinePolicies } from "../../src/modules/ai/ai.budget";
import { productionBindings, bindingsWith } from "../helpers/app-env";
import { fakeAiBinding } from "../helpers/ai-fakes";

const chatModel = { id: "llama", provider: "workers-ai", provider_model: "@cf/meta/llama-3.1-8b-instruct", kind: "chat", input_usd_per_mtok: 0.3, output_usd_per_mtok: 0.8 };
const problemsOf = (bindings: Record<string, unknown>) => {
  const result = parseConfig(bindings);
  return result.ok ? [] : result.problems;
};

describe("AI_MODELS validation", () => {
  it("development defaults to the local models; production to none", () => {
    expect(problemsOf(bindingsWith())).toEqual([]);
    expect(problemsOf(productionBindings())).toEqual([]);
  });

  it("a chat model without a price is a configuration error, never free", () => {
    const { output_usd_per_mtok: _dropped, ...unpriced } = chatModel;
    expect(problemsOf(bindingsWith({ AI_MODELS: JSON.stringify([unpriced]), AI: fakeAiBinding() })).join("\n")).toMatch(/needs input_usd_per_mtok and output_usd_per_mtok/);
  });

  it("refuses the local provider in staging and production", () => {
    const local = JSON.stringify([{ id: "local/chat", provider: "local", kind: "chat", input_usd_per_mtok: 0, output_usd_per_mtok: 0 }]);
    expect(problemsOf(productionBindings({ AI_MODELS: local })).join("\n")).toMatch(/local provider, which is development-only/);
    expect(problemsOf(productionBindings({ ENVIRONMENT: "staging", AI_MODELS: local })).join("\n")).toMatch(/development-only/);
  });

  it("names missing bindings, secrets, unknown defaults, bad JSON and duplicates", () => {
    expect(problemsOf(bindingsWith({ AI_MODELS: JSON.stringify([chatModel]) })).join("\n")).toMatch(/needs the Workers AI binding AI/);
    const openAi = { ...chatModel, id: "gpt", provider: "openai-compatible" };
    expect(problemsOf(bindingsWith({ AI_MODELS: JSON.stringify([openAi]) })).join("\n")).toMatch(/AI_OPENAI_BASE_URL and the AI_OPENAI_API_KEY secret/);
    expect(problemsOf(productionBindings({ AI_MODELS: JSON.stringify([openAi]), AI_OPENAI_BASE_URL: "http://llm.internal", AI_OPENAI_API_KEY: "k" })).join("\n")).toMatch(/must be an https URL/);
    expect(problemsOf(bindingsWith({ AI_DEFAULT_CHAT_MODEL: "nope" })).join("\n")).toMatch(/AI_DEFAULT_CHAT_MODEL: nope is not a configured chat model/);
    expect(problemsOf(bindingsWith({ AI_MODELS: "[{" })).join("\n")).toMatch(/AI_MODELS: is not valid JSON/);
    expect(problemsOf(bindingsWith({ AI_MODELS: JSON.stringify([chatModel, chatModel]), AI: fakeAiBinding() })).join("\n")).toMatch(/duplicate model id llama/);
    expect(problemsOf(bindingsWith({ AI_MODELS: JSON.stringify([{ ...chatModel, id: "local/x" }]), AI: fakeAiBinding() })).join("\n")).toMatch(/local\//);
    expect(problemsOf(bindingsWith({ AI_VECTOR_STORE: "vectorize" })).join("\n")).toMatch(/needs the Vectorize binding VECTORS/);
    expect(problemsOf(productionBindings({ AI_MODELS: JSON.stringify([chatModel]), AI: fakeAiBinding() }))).toEqual([]);
  });
});

describe("AI cost and policy arithmetic", () => {
  it("computes integer micro-dollars, rounding each direction up", () => {
    const model = { inputMicroUsdPerMtok: 282_000, outputMicroUsdPerMtok: 827_000 };
    expect(costMicroUsd(model, 1_000_000, 1_000_000)).toBe(1_109_000);
    expect(costMicroUsd(model, 1, 1)).toBe(2);
    expect(costMicroUsd(model, 0, 0)).toBe(0);
  });

  it("takes the most generous of a user's roles (null is unlimited)", () => {
    const row = (role: string, dailyTokens: number | null, monthlyCostMicroUsd: number | null) => ({ role, dailyTokens, monthlyCostMicroUsd });
    expect(combinePolicies([row("guest", 0, 0), row("user", 100_000, null)])).toEqual({ dailyTokens: 100_000, monthlyCostMicroUsd: null, role: "user" });
    expect(combinePolicies([row("a", 5, 10), row("b", null, 3)])).toEqual({ dailyTokens: null, monthlyCostMicroUsd: 10, role: "b" });
    expect(combinePolicies([])).toEqual({ dailyTokens: 0, monthlyCostMicroUsd: 0, role: null });
  });
});
