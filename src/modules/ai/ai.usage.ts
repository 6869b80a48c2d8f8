import type { Database } from "../../db/client";
import { aiUsage } from "../../db/schema";
import { newId } from "../../lib/ids";

export type UsageOutcome = "ok" | "error" | "aborted" | "blocked" | "refused";

/** One AI call as recorded: the usage row and the event metrics listen to. */
export interface UsageEvent {
  userId: string;
  role: string | null;
  model: string;
  endpoint: string;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  latencyMs: number;
  ttfbMs: number | null;
  outcome: UsageOutcome;
  errorCode: string | null;
  requestId: string | null;
  prompt?: string | null;
  completion?: string | null;
  at: number;
}

type UsageListener = (event: UsageEvent) => void;
const listeners: UsageListener[] = [];

/**
 * Subscribes to every recorded AI call (per-model counters of the metrics module hook in here).
 * Listeners run synchronously and must not throw; a throwing listener is skipped.
 */
export function onAiUsage(listener: UsageListener): void {
  listeners.push(listener);
}

/**
 * The one place an AI call is accounted: notifies listeners and writes the usage row. Callers run
 * it off the response path (waitUntil). Prompt and completion are stored only when the caller
 * passes them (AI_LOG_CONTENT=true).
 */
export async function recordUsage(db: Database, event: UsageEvent): Promise<void> {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // Metrics must never break accounting.
    }
  }
  await db.insert(aiUsage).values({
    id: newId(event.at),
    userId: event.userId,
    role: event.role,
    model: event.model,
    endpoint: event.endpoint,
    inputTokens: event.inputTokens,
    outputTokens: event.outputTokens,
    costMicroUsd: event.costMicroUsd,
    latencyMs: Math.max(0, Math.round(event.latencyMs)),
    ttfbMs: event.ttfbMs === null ? null : Math.max(0, Math.round(event.ttfbMs)),
    outcome: event.outcome,
    errorCode: event.errorCode,
    requestId: event.requestId,
    prompt: event.prompt ?? null,
    completion: event.completion ?? null,
    createdAt: event.at,
  });
}

/** Blocked screenings of a user in the last 24 hours: the input of the AI risk score. */
export async function recentBlocks(d1: D1Database, userId: string, now: number): Promise<number> {
  const row = await d1
    .prepare("select count(*) as n from ai_usage where user_id = ? and created_at >= ? and outcome = 'blocked'")
    .bind(userId, now - 86_400_000)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** 0..1 from recent blocks: 0 for none, 1 from ten blocks a day. */
export const riskScore = (blocks: number) => Math.min(1, blocks / 10);
