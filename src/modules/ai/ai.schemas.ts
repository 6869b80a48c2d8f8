import { z } from "@hono/zod-openapi";
import { categories } from "./screening/patterns";

const MAX_TEXT = 32_000;
const MAX_INT = 2 ** 31 - 1;
const TokenCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Usd = z.number().min(0).max(1e12).openapi({ description: "USD, computed from integer micro-dollars" });

export const ModelIdSchema = z.string().min(1).max(128).openapi({ example: "local/chat" });
const DocumentIds = z.array(z.uuid()).min(1).max(20).openapi({ description: "Your indexed documents to draw passages from" });

export const ScreeningSchema = z
  .object({
    verdict: z.enum(["allow", "block"]),
    score: z.number().min(0).max(1),
    categories: z.array(z.enum(categories)).max(categories.length),
  })
  .openapi("ScreeningVerdict");

export const UsageSchema = z.object({ input_tokens: TokenCount, output_tokens: TokenCount }).openapi("AiTokenUsage");

export const ChatRequestSchema = z
  .object({
    messages: z
      .array(z.object({ role: z.enum(["user", "assistant"]), content: z.string().min(1).max(MAX_TEXT) }).strict())
      .min(1)
      .max(50),
    model: ModelIdSchema.optional(),
    max_tokens: z.number().int().min(1).max(100_000).optional().openapi({ description: "Clamped to the model's maximum" }),
    stream: z.boolean().default(false),
    document_ids: DocumentIds.optional(),
  })
  .strict()
  .openapi("ChatRequest");

const completion = {
  id: z.string().max(64).openapi({ description: "The request id" }),
  model: ModelIdSchema,
  usage: UsageSchema,
  cost_usd: Usd,
};

export const ChatResponseSchema = z.object({ ...completion, content: z.string().max(4_000_000), screening: ScreeningSchema }).openapi("ChatResponse");

export const ChatStreamSchema = z.string().max(100_000_000).openapi({
  description:
    "Server-sent events: `event: delta` with `{text}`, then exactly one `event: done` with `{id, model, usage, cost_usd, screening}` " +
    "or one `event: error` with `{code, detail}` (and `usage`, `cost_usd` when text was generated and charged).",
});

export const IdeasRequestSchema = z
  .object({
    topic: z.string().trim().min(1).max(2_000),
    context: z.string().max(MAX_TEXT).optional(),
    count: z.number().int().min(1).max(20).default(5),
    model: ModelIdSchema.optional(),
  })
  .strict()
  .openapi("IdeasRequest");

export const IdeasResponseSchema = z.object({ ...completion, ideas: z.array(z.string().max(4_000)).max(20) }).openapi("IdeasResponse");

export const enhanceModes = ["improve", "expand", "summarize", "professional", "simplify"] as const;

export const EnhanceRequestSchema = z
  .object({
    content: z.string().min(1).max(MAX_TEXT),
    mode: z.enum(enhanceModes),
    target_words: z.number().int().min(1).max(10_000).optional(),
    model: ModelIdSchema.optional(),
  })
  .strict()
  .openapi("EnhanceRequest");

export const EnhanceResponseSchema = z.object({ ...completion, mode: z.enum(enhanceModes), content: z.string().max(4_000_000) }).openapi("EnhanceResponse");

const JsonScalar = z.union([z.string().max(4_000), z.number(), z.boolean(), z.null()]);

export const AutofillRequestSchema = z
  .object({
    field_name: z.string().trim().min(1).max(200),
    field_description: z.string().max(2_000).optional(),
    existing_data: z.record(z.string().max(200), JsonScalar).default({}).openapi({ description: "The form's other fields (at most 100)" }),
    model: ModelIdSchema.optional(),
  })
  .strict()
  .refine((value) => Object.keys(value.existing_data).length <= 100, { message: "at most 100 fields", path: ["existing_data"] })
  .openapi("AutofillRequest");

export const AutofillResponseSchema = z.object({ ...completion, field_name: z.string().max(200), value: z.string().max(4_000) }).openapi("AutofillResponse");

export const ScreenRequestSchema = z.object({ text: z.string().min(1).max(MAX_TEXT) }).strict().openapi("ScreenRequest");

export const ModelSchema = z
  .object({
    id: ModelIdSchema,
    kind: z.enum(["chat", "embedding"]),
    provider: z.enum(["local", "workers-ai", "openai-compatible"]),
    input_usd_per_mtok: z.number().min(0).max(1_000_000),
    output_usd_per_mtok: z.number().min(0).max(1_000_000),
    max_output_tokens: z.number().int().min(1).max(MAX_INT),
    context_window: z.number().int().min(1).max(MAX_INT),
    default: z.boolean(),
  })
  .openapi("AiModel");

export const ModelListSchema = z.object({ items: z.array(ModelSchema).max(200) }).openapi("AiModelList");
