import type { Bindings } from "../../../bindings";
import type { Config } from "../../../config";
import { applyFaults } from "../../../lib/faults";
import type { AiModel } from "../ai.config";
import { createLocalProvider } from "./local";
import { createOpenAiCompatibleProvider } from "./openai-compatible";
import type { AiProvider } from "./provider";
import { ProviderError } from "./provider";
import { createWorkersAiProvider } from "./workers-ai";

export type { AiProvider } from "./provider";

/** Per-call settings: an injected fetch for the OpenAI-compatible provider (a fake server in tests), a shorter timeout. */
export interface ProviderOverrides {
  fetch?: typeof fetch;
  /** Replaces AI_OPENAI_TIMEOUT_MS when shorter, e.g. what is left of the request's time budget. */
  timeoutMs?: number;
}

const local = createLocalProvider();

/** An optional service binding through which the OpenAI-compatible API is reached (a model server Worker; the fake server in tests). */
function injectedFetch(bindings: Bindings): typeof fetch | undefined {
  const service = bindings.AI_HTTP as { fetch?: unknown } | undefined;
  return typeof service?.fetch === "function" ? ((input, init) => (service as Fetcher).fetch(input as RequestInfo, init)) as typeof fetch : undefined;
}

/** The provider of a configured model; the choice is configuration (AI_MODELS), made here once. */
export function providerFor(model: AiModel, config: Config, bindings: Bindings, overrides: ProviderOverrides = {}): AiProvider {
  const provider = configuredProvider(model, config, bindings, overrides);
  return config.FAULTS.some((rule) => rule.target === "ai") ? withFaults(provider, config) : provider;
}

function configuredProvider(model: AiModel, config: Config, bindings: Bindings, overrides: ProviderOverrides): AiProvider {
  const timeoutMs = Math.max(1, Math.min(config.AI_OPENAI_TIMEOUT_MS, overrides.timeoutMs ?? Infinity));
  switch (model.provider) {
    case "local":
      return local;
    case "workers-ai":
      if (!bindings.AI) throw new ProviderError("unavailable", "the AI binding is missing");
      return createWorkersAiProvider(bindings.AI, { maxRetries: config.AI_OPENAI_MAX_RETRIES, timeoutMs });
    case "openai-compatible":
      return createOpenAiCompatibleProvider({
        baseUrl: config.AI_OPENAI_BASE_URL ?? "",
        apiKey: config.AI_OPENAI_API_KEY ?? "",
        timeoutMs,
        maxRetries: config.AI_OPENAI_MAX_RETRIES,
        ...((overrides.fetch ?? injectedFetch(bindings)) ? { fetch: overrides.fetch ?? injectedFetch(bindings) } : {}),
      });
  }
}

/**
 * Chaos mode (FAULTS=ai:…, development only): a share of provider calls fail the way a provider
 * that never answers does (a timeout, before any byte), or wait FAULTS_DELAY_MS first (ai.slow).
 */
function withFaults(provider: AiProvider, config: Config): AiProvider {
  const gate = async () => {
    try {
      await applyFaults(config.FAULTS, "ai", config.FAULTS_DELAY_MS);
    } catch (error) {
      throw new ProviderError("timeout", (error as Error).message, undefined, { cause: error });
    }
  };
  return {
    async chat(request) {
      await gate();
      return provider.chat(request);
    },
    async *stream(request) {
      await gate();
      yield* provider.stream(request);
    },
    async embed(model, texts, signal) {
      await gate();
      return provider.embed(model, texts, signal);
    },
  };
}
