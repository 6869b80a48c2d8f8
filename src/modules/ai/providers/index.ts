import type { Bindings, Config } from "../../../env";
import type { AiModel } from "../ai.config";
import { createLocalProvider } from "./local";
import { createOpenAiCompatibleProvider } from "./openai-compatible";
import type { AiProvider } from "./provider";
import { ProviderError } from "./provider";
import { createWorkersAiProvider } from "./workers-ai";

export type { AiProvider } from "./provider";

/** Test seam: an injected fetch for the OpenAI-compatible provider (a fake server). */
export interface ProviderOverrides {
  fetch?: typeof fetch;
}

const local = createLocalProvider();

/** An optional service binding through which the OpenAI-compatible API is reached (a model server Worker; the fake server in tests). */
function injectedFetch(bindings: Bindings): typeof fetch | undefined {
  const service = bindings.AI_HTTP as { fetch?: unknown } | undefined;
  return typeof service?.fetch === "function" ? ((input, init) => (service as Fetcher).fetch(input as RequestInfo, init)) as typeof fetch : undefined;
}

/** The provider of a configured model; the choice is configuration (AI_MODELS), made here once. */
export function providerFor(model: AiModel, config: Config, bindings: Bindings, overrides: ProviderOverrides = {}): AiProvider {
  switch (model.provider) {
    case "local":
      return local;
    case "workers-ai":
      if (!bindings.AI) throw new ProviderError("unavailable", "the AI binding is missing");
      return createWorkersAiProvider(bindings.AI, { maxRetries: config.AI_OPENAI_MAX_RETRIES });
    case "openai-compatible":
      return createOpenAiCompatibleProvider({
        baseUrl: config.AI_OPENAI_BASE_URL ?? "",
        apiKey: config.AI_OPENAI_API_KEY ?? "",
        timeoutMs: config.AI_OPENAI_TIMEOUT_MS,
        maxRetries: config.AI_OPENAI_MAX_RETRIES,
        ...((overrides.fetch ?? injectedFetch(bindings)) ? { fetch: overrides.fetch ?? injectedFetch(bindings) } : {}),
      });
  }
}
