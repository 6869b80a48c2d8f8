import { z } from "zod";

/**
 * AI_MODELS: the models the gateway may call, as JSON. Validated at startup with the rest of the
 * configuration (src/env.ts), so a model without a price or a local model in production stops the
 * deploy instead of costing $0 or answering canned text to paying users.
 */
export const providerKinds = ["local", "workers-ai", "openai-compatible"] as const;
export type ProviderKind = (typeof providerKinds)[number];

const price = z.number().min(0).max(1_000_000);

export const aiModelSchema = z
  .object({
    /** The id callers send and responses carry; local models are `local/...`. */
    id: z.string().min(1).max(128).regex(/^[A-Za-z0-9@/._:-]+$/, "may hold letters, digits and @ / . _ : -"),
    provider: z.enum(providerKinds),
    /** The provider's own model name (`@cf/meta/llama-3.1-8b-instruct`, `gpt-4o-mini`). */
    provider_model: z.string().min(1).max(256).optional(),
    kind: z.enum(["chat", "embedding"]),
    /** USD per million tokens. Required for chat models: a missing price is an error, never free. */
    input_usd_per_mtok: price.optional(),
    output_usd_per_mtok: price.optional(),
    max_output_tokens: z.number().int().min(1).max(1_000_000).default(1024),
    context_window: z.number().int().min(256).max(10_000_000).default(8192),
    /** Embedding dimensions (embedding models). */
    dimensions: z.number().int().min(8).max(4096).optional(),
    /** Roles that may use the model; absent: every role holding ai:use. */
    roles: z.array(z.string().min(1).max(64)).max(100).optional(),
  })
  .strict()
  .superRefine((model, ctx) => {
    if (model.kind === "chat" && (model.input_usd_per_mtok === undefined || model.output_usd_per_mtok === undefined)) {
      ctx.addIssue({ code: "custom", message: `chat model ${model.id} needs input_usd_per_mtok and output_usd_per_mtok (a model without a price is never free)` });
    }
    if (model.kind === "embedding" && model.input_usd_per_mtok === undefined) {
      ctx.addIssue({ code: "custom", message: `embedding model ${model.id} needs input_usd_per_mtok` });
    }
    if ((model.provider === "local") !== model.id.startsWith("local/")) {
      ctx.addIssue({ code: "custom", message: `model ${model.id}: ids starting with local/ are exactly the local provider's` });
    }
  });

export type AiModelInput = z.infer<typeof aiModelSchema>;

/** A configured model with prices as integers: micro-dollars per million tokens. */
export interface AiModel {
  id: string;
  provider: ProviderKind;
  providerModel: string;
  kind: "chat" | "embedding";
  inputMicroUsdPerMtok: number;
  outputMicroUsdPerMtok: number;
  maxOutputTokens: number;
  contextWindow: number;
  dimensions: number;
  roles: string[] | null;
}

export const aiModelsSchema = z
  .array(aiModelSchema)
  .max(200)
  .superRefine((models, ctx) => {
    const ids = models.map((model) => model.id);
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
    if (duplicate) ctx.addIssue({ code: "custom", message: `duplicate model id ${duplicate}` });
  })
  .transform((models): AiModel[] =>
    models.map((model) => ({
      id: model.id,
      provider: model.provider,
      providerModel: model.provider_model ?? model.id,
      kind: model.kind,
      inputMicroUsdPerMtok: Math.round((model.input_usd_per_mtok ?? 0) * 1_000_000),
      outputMicroUsdPerMtok: Math.round((model.output_usd_per_mtok ?? 0) * 1_000_000),
      maxOutputTokens: model.max_output_tokens,
      contextWindow: model.context_window,
      dimensions: model.dimensions ?? (model.provider === "local" ? 256 : 1024),
      roles: model.roles ?? null,
    })),
  );

/** What development and tests run when AI_MODELS is not set: offline, deterministic, priced. */
export const LOCAL_MODELS_JSON = JSON.stringify([
  { id: "local/chat", provider: "local", kind: "chat", input_usd_per_mtok: 0.5, output_usd_per_mtok: 1.5, max_output_tokens: 512, context_window: 8192 },
  { id: "local/embed", provider: "local", kind: "embedding", input_usd_per_mtok: 0.02, dimensions: 256 },
]);

/** The AI block of the configuration schema (merged into configSchema in src/config.ts). */
export const aiConfigShape = {
  /** JSON list of models; the development default is LOCAL_MODELS_JSON, staging/production have none unless set. */
  AI_MODELS: z.string().optional(),
  AI_DEFAULT_CHAT_MODEL: z.string().max(128).optional(),
  AI_EMBEDDING_MODEL: z.string().max(128).optional(),
  AI_OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  AI_OPENAI_API_KEY: z.string().optional(),
  AI_OPENAI_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  AI_OPENAI_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  AI_LOG_CONTENT: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
  /** Largest text a caller may send in one AI request (characters, all messages together). */
  AI_MAX_INPUT_CHARS: z.coerce.number().int().min(100).max(1_000_000).default(32_000),
  /** Score at and above which screening blocks (0..1). */
  AI_SCREEN_THRESHOLD: z.coerce.number().min(0.05).max(1).default(0.5),
  /** `d1` (local store: vectors + FTS5 in D1) or `vectorize` (the VECTORS binding). */
  AI_VECTOR_STORE: z.enum(["d1", "vectorize"]).default("d1"),
} as const;

interface AiSettings {
  ENVIRONMENT: string;
  AI_MODELS?: string | undefined;
  AI_DEFAULT_CHAT_MODEL?: string | undefined;
  AI_EMBEDDING_MODEL?: string | undefined;
  AI_OPENAI_BASE_URL?: string | undefined;
  AI_OPENAI_API_KEY?: string | undefined;
  AI_VECTOR_STORE: "d1" | "vectorize";
}

export type ParsedModels = { ok: true; models: AiModel[] } | { ok: false; problems: string[] };

/** AI_MODELS as configured, or the default of the environment. */
export function parseModels(settings: Pick<AiSettings, "ENVIRONMENT" | "AI_MODELS">): ParsedModels {
  const dev = settings.ENVIRONMENT === "development" || settings.ENVIRONMENT === "test";
  const text = settings.AI_MODELS ?? (dev ? LOCAL_MODELS_JSON : "[]");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problems: ["AI_MODELS: is not valid JSON"] };
  }
  const parsed = aiModelsSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((issue) => `AI_MODELS${issue.path.length ? `[${issue.path.join(".")}]` : ""}: ${issue.message}`) };
  return { ok: true, models: parsed.data };
}

/** Every problem of the AI settings, for the config guard; empty when they are usable. */
export function aiConfigProblems(settings: AiSettings, bindings: Record<string, unknown>): string[] {
  const parsed = parseModels(settings);
  if (!parsed.ok) return parsed.problems;
  const problems: string[] = [];
  const production = settings.ENVIRONMENT === "staging" || settings.ENVIRONMENT === "production";
  const models = parsed.models;
  for (const model of models) {
    if (production && model.provider === "local") problems.push(`AI_MODELS: ${model.id} uses the local provider, which is development-only`);
    if (model.provider === "workers-ai" && typeof (bindings.AI as { run?: unknown } | undefined)?.run !== "function") {
      problems.push(`AI_MODELS: ${model.id} needs the Workers AI binding AI ([ai] in wrangler.toml)`);
    }
    if (model.provider === "openai-compatible" && (!settings.AI_OPENAI_BASE_URL || !settings.AI_OPENAI_API_KEY)) {
      problems.push(`AI_MODELS: ${model.id} needs AI_OPENAI_BASE_URL and the AI_OPENAI_API_KEY secret`);
    }
  }
  if (production && settings.AI_OPENAI_BASE_URL && !settings.AI_OPENAI_BASE_URL.startsWith("https://")) {
    problems.push("AI_OPENAI_BASE_URL must be an https URL (the API key travels with every request)");
  }
  for (const [name, kind] of [["AI_DEFAULT_CHAT_MODEL", "chat"], ["AI_EMBEDDING_MODEL", "embedding"]] as const) {
    const id = settings[name];
    if (id !== undefined && !models.some((model) => model.id === id && model.kind === kind)) problems.push(`${name}: ${id} is not a configured ${kind} model`);
  }
  if (settings.AI_VECTOR_STORE === "vectorize" && typeof (bindings.VECTORS as { query?: unknown } | undefined)?.query !== "function") {
    problems.push("AI_VECTOR_STORE=vectorize needs the Vectorize binding VECTORS");
  }
  return problems;
}

const modelCache = new WeakMap<object, AiModel[]>();

/** The validated model list of a configuration (parsed once per configuration object). */
export function modelsOf(config: Pick<AiSettings, "ENVIRONMENT" | "AI_MODELS">): AiModel[] {
  let models = modelCache.get(config);
  if (!models) {
    const parsed = parseModels(config);
    models = parsed.ok ? parsed.models : [];
    modelCache.set(config, models);
  }
  return models;
}

/** The chat model used when a request names none, and the embedding model of documents and search. */
export function defaultModel(config: Pick<AiSettings, "ENVIRONMENT" | "AI_MODELS" | "AI_DEFAULT_CHAT_MODEL" | "AI_EMBEDDING_MODEL">, kind: "chat" | "embedding"): AiModel | undefined {
  const models = modelsOf(config);
  const wanted = kind === "chat" ? config.AI_DEFAULT_CHAT_MODEL : config.AI_EMBEDDING_MODEL;
  return models.find((model) => model.kind === kind && (wanted === undefined || model.id === wanted));
}
