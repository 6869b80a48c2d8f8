import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { principalOf, requirePermission } from "../../middleware/auth";
import { defaultModel } from "./ai.config";
import { aiGuard, gatewayDeps } from "./ai.context";
import { complete, usableModels } from "./ai.gateway";
import {
  AutofillRequestSchema,
  AutofillResponseSchema,
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamSchema,
  EnhanceRequestSchema,
  EnhanceResponseSchema,
  IdeasRequestSchema,
  IdeasResponseSchema,
  ModelListSchema,
  ScreeningSchema,
  ScreenRequestSchema,
} from "./ai.schemas";
import { autofillField, enhanceContent, generateIdeas } from "./ai.service";
import { streamChat } from "./ai.stream";
import { screenText } from "./screening/screen";

export const aiRoutes = new OpenAPIHono<AppEnv>();

/** Every model-calling route: 413 input too large, 422 screening, 429 quota, 502-504 provider. */
const MODEL_ERRORS = errorResponses(401, 403, 413, 422, 429, 502, 503, 504);

const chatRoute = createRoute({
  method: "post",
  path: "/ai/chat",
  operationId: "createChatCompletion",
  tags: ["AI"],
  summary: "Chat with a model, optionally over your documents, optionally streamed",
  description:
    "Every message is screened for prompt injection (422 `prompt_injection_suspected`). The worst case (input + max output) is reserved " +
    "from your daily token and monthly cost budgets before the provider is called (429 `quota-exceeded` with `\"ai-tokens\";q=...;w=86400`) and " +
    "settled to the actual usage. With `stream: true` the answer is `text/event-stream`.",
  ...aiGuard("ai:use"),
  request: { body: jsonBody(ChatRequestSchema) },
  responses: {
    ...MODEL_ERRORS,
    // `document_ids` naming a document the caller does not own (found by the operation fuzzer).
    ...errorResponses(404),
    200: {
      description: "The completion (JSON), or server-sent events with `stream: true`",
      content: { "application/json": { schema: ChatResponseSchema }, "text/event-stream": { schema: ChatStreamSchema } },
    },
  },
});

aiRoutes.openapi(chatRoute, async (c) => {
  const input = c.req.valid("json");
  const spec = {
    endpoint: "chat" as const,
    model: input.model,
    instructions: "You are a helpful assistant inside a business application. Answer in the language of the user.",
    messages: input.messages,
    maxTokens: input.max_tokens,
    documentIds: input.document_ids,
  };
  if (input.stream) return streamChat(gatewayDeps(c), spec) as never;
  return c.json(await complete(gatewayDeps(c), spec), 200);
});

const ideasRoute = createRoute({
  method: "post",
  path: "/ai/ideas",
  operationId: "generateIdeas",
  tags: ["AI"],
  summary: "A list of ideas for a topic",
  ...aiGuard("ai:use"),
  request: { body: jsonBody(IdeasRequestSchema) },
  responses: { ...MODEL_ERRORS, 200: jsonContent(IdeasResponseSchema, "The ideas") },
});

aiRoutes.openapi(ideasRoute, async (c) => c.json(await generateIdeas(gatewayDeps(c), c.req.valid("json")), 200));

const enhanceRoute = createRoute({
  method: "post",
  path: "/ai/enhance",
  operationId: "enhanceContent",
  tags: ["AI"],
  summary: "Rewrite a text: improve, expand, summarize, professional or simplify",
  ...aiGuard("ai:use"),
  request: { body: jsonBody(EnhanceRequestSchema) },
  responses: { ...MODEL_ERRORS, 200: jsonContent(EnhanceResponseSchema, "The rewritten text") },
});

aiRoutes.openapi(enhanceRoute, async (c) => c.json(await enhanceContent(gatewayDeps(c), c.req.valid("json")), 200));

const autofillRoute = createRoute({
  method: "post",
  path: "/ai/autofill",
  operationId: "autofillField",
  tags: ["AI"],
  summary: "A suggested value for one form field",
  ...aiGuard("ai:use"),
  request: { body: jsonBody(AutofillRequestSchema) },
  responses: { ...MODEL_ERRORS, 200: jsonContent(AutofillResponseSchema, "The suggestion") },
});

aiRoutes.openapi(autofillRoute, async (c) => c.json(await autofillField(gatewayDeps(c), c.req.valid("json")), 200));

const screenRoute = createRoute({
  method: "post",
  path: "/ai/screen",
  operationId: "screenText",
  tags: ["AI"],
  summary: "The prompt-injection verdict for a text, for services that call their own models",
  description: "Nothing is recorded and no model is called.",
  ...requirePermission("ai:use"),
  request: { body: jsonBody(ScreenRequestSchema) },
  responses: { ...errorResponses(401, 403, 422, 429), 200: jsonContent(ScreeningSchema, "The verdict") },
});

aiRoutes.openapi(screenRoute, (c) => c.json(screenText(c.req.valid("json").text, c.get("config").AI_SCREEN_THRESHOLD), 200));

const modelsRoute = createRoute({
  method: "get",
  path: "/ai/models",
  operationId: "listAiModels",
  tags: ["AI"],
  summary: "The models your roles may use, with prices and limits",
  ...requirePermission("ai:use"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(ModelListSchema, "Your models") },
});

aiRoutes.openapi(modelsRoute, (c) => {
  const config = c.get("config");
  const defaults = [defaultModel(config, "chat")?.id, defaultModel(config, "embedding")?.id];
  const items = usableModels(config, principalOf(c)).map((model) => ({
    id: model.id,
    kind: model.kind,
    provider: model.provider,
    input_usd_per_mtok: model.inputMicroUsdPerMtok / 1_000_000,
    output_usd_per_mtok: model.outputMicroUsdPerMtok / 1_000_000,
    max_output_tokens: model.maxOutputTokens,
    context_window: model.contextWindow,
    default: defaults.includes(model.id),
  }));
  c.header("Cache-Control", "no-store");
  return c.json({ items }, 200);
});
