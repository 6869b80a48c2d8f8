import type { z } from "@hono/zod-openapi";
import { complete, type GatewayDeps } from "./ai.gateway";
import type { AutofillRequestSchema, EnhanceRequestSchema, IdeasRequestSchema } from "./ai.schemas";

/*
 * The task endpoints: each is one non-streamed call with the gateway's own instructions. What
 * the caller supplies goes in the user message (screened); the instructions are trusted.
 */

const GENERAL = "You are a helpful assistant inside a business application. Answer in the language of the user's text.";

export async function generateIdeas(deps: GatewayDeps, input: z.infer<typeof IdeasRequestSchema>) {
  const result = await complete(deps, {
    endpoint: "ideas",
    model: input.model,
    instructions: `${GENERAL} Suggest ideas for the user's topic. Answer with exactly ${input.count} lines, one idea per line, no preamble.`,
    messages: [{ role: "user", content: input.context ? `Topic: ${input.topic}\n\nContext: ${input.context}` : `Topic: ${input.topic}` }],
  });
  const { content, screening: _screening, ...rest } = result;
  return { ...rest, ideas: toLines(content, input.count) };
}

/** One idea per non-empty line, list markers removed. */
export function toLines(text: string, count: number): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/^\s*(?:[-*•]|\d{1,2}[.)])\s*/, "").trim())
    .filter((line) => line.length > 0)
    .slice(0, count)
    .map((line) => line.slice(0, 4_000));
}

const MODES = {
  improve: "Improve the clarity, grammar and flow of the text without changing its meaning.",
  expand: "Expand the text with relevant detail and examples.",
  summarize: "Summarize the text, keeping its key points.",
  professional: "Rewrite the text in a professional, courteous business tone.",
  simplify: "Rewrite the text in plain language a twelve-year-old understands.",
} as const;

export async function enhanceContent(deps: GatewayDeps, input: z.infer<typeof EnhanceRequestSchema>) {
  const length = input.target_words ? ` Aim for about ${input.target_words} words.` : "";
  const result = await complete(deps, {
    endpoint: "enhance",
    model: input.model,
    instructions: `${GENERAL} ${MODES[input.mode]}${length} Return only the rewritten text.`,
    messages: [{ role: "user", content: input.content }],
    maxTokens: input.target_words ? Math.ceil(input.target_words * 2) : undefined,
  });
  const { screening: _screening, ...rest } = result;
  return { ...rest, mode: input.mode };
}

export async function autofillField(deps: GatewayDeps, input: z.infer<typeof AutofillRequestSchema>) {
  const data = Object.entries(input.existing_data).map(([name, value]) => `${name}: ${value === null ? "" : String(value)}`).join("\n");
  const description = input.field_description ? `\nField description: ${input.field_description}` : "";
  const result = await complete(deps, {
    endpoint: "autofill",
    model: input.model,
    instructions: `${GENERAL} Suggest a value for one form field from the form's other fields. Return only the value, on one line.`,
    messages: [{ role: "user", content: `Field: ${input.field_name}${description}\n\nOther fields:\n${data || "(none)"}` }],
    maxTokens: 200,
  });
  return { id: result.id, model: result.model, usage: result.usage, cost_usd: result.cost_usd, field_name: input.field_name, value: (result.content.split(/\r?\n/).find((line) => line.trim()) ?? "").trim().slice(0, 4_000) };
}
