import { countMessageTokens, countTokens, truncateToTokens } from "../ai.tokens";
import type { AiProvider, ChatMessage, ChatRequest, ChatResult, EmbeddingResult, StreamPart } from "./provider";

/**
 * The offline development provider: deterministic, free of any account, and labelled (`local/...`)
 * in every response. It is not a language model; it exercises every gateway path with real
 * inputs: its reply is built from the request (so screening, budgets and streaming see varying
 * text), usage is counted, and its embeddings are hashed bag-of-words plus character trigrams,
 * so documents about the same words are near each other and search works on real text.
 * The configuration check refuses it in staging and production.
 */
export function createLocalProvider(): AiProvider {
  return {
    chat: async (request) => reply(request),
    stream: (request) => streamReply(request),
    embed: async (_model, texts) => embedTexts(texts),
  };
}

const SENTENCE = /[^.!?。！？\n]+[.!?。！？]?/gu;

function firstSentences(text: string, words: number): string {
  const out: string[] = [];
  let count = 0;
  for (const match of text.matchAll(SENTENCE)) {
    const sentence = match[0].trim();
    if (!sentence) continue;
    out.push(sentence);
    count += sentence.split(/\s+/).length;
    if (count >= words) break;
  }
  return out.join(" ");
}

/** Content words of a text, most frequent first: the local "ideas" are built from them. */
function keywords(text: string, limit: number): string[] {
  const counts = new Map<string, number>();
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]{4,}/gu)) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([word]) => word);
}

function compose(messages: ChatMessage[]): string {
  const system = messages.filter((message) => message.role === "system").map((message) => message.content).join("\n");
  const lastUser = [...messages].reverse().find((message) => message.role === "user")?.content ?? "";
  // The gateway asks for line-shaped answers (ideas) with "exactly N lines"; honour that shape.
  const lines = /exactly (\d{1,2}) lines/i.exec(system);
  if (lines) {
    const count = Number(lines[1]);
    const words = keywords(lastUser, count + 2);
    return Array.from({ length: count }, (_, index) => {
      const a = words[index % Math.max(1, words.length)] ?? "topic";
      const b = words[(index + 1) % Math.max(1, words.length)] ?? "idea";
      return `${index + 1}. Combine ${a} with ${b} (local idea ${index + 1})`;
    }).join("\n");
  }
  const parts = [`Local model reply (offline, deterministic). You wrote: "${firstSentences(lastUser, 40)}"`];
  const context = /<passage[^>]*>([\s\S]*?)<\/passage>/.exec(system);
  if (context?.[1]) parts.push(`From your documents: "${firstSentences(context[1], 30)}"`);
  return parts.join("\n");
}

function reply(request: ChatRequest): ChatResult {
  const text = truncateToTokens(compose(request.messages), request.maxTokens);
  return { text, usage: { inputTokens: countMessageTokens(request.messages), outputTokens: countTokens(text) } };
}

async function* streamReply(request: ChatRequest): AsyncGenerator<StreamPart> {
  const { text, usage } = reply(request);
  // Word-sized pieces, like a real model's token stream.
  for (const piece of text.match(/\S+\s*/g) ?? []) {
    if (request.signal?.aborted) return;
    yield { type: "text", text: piece };
  }
  if (usage) yield { type: "usage", usage };
}

/** FNV-1a, 32 bits: a stable hash for feature buckets. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export const LOCAL_EMBEDDING_DIMENSIONS = 256;

/** Hashed word and character-trigram features, signed, L2-normalised. */
export function embedText(text: string, dimensions = LOCAL_EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const add = (feature: string, weight: number) => {
    const hash = fnv1a(feature);
    vector[hash % dimensions]! += hash & 0x80000000 ? -weight : weight;
  };
  for (const match of text.normalize("NFKC").toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    add(`w:${word}`, 1);
    const padded = ` ${word} `;
    for (let index = 0; index + 3 <= padded.length; index++) add(`t:${padded.slice(index, index + 3)}`, 0.35);
  }
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

function embedTexts(texts: string[]): EmbeddingResult {
  return { vectors: texts.map((text) => embedText(text)), inputTokens: texts.reduce((sum, text) => sum + countTokens(text), 0) };
}
