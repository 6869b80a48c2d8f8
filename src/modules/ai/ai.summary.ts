import { toUsd } from "./ai.cost";

export type GroupBy = "user" | "model" | "day" | "role";

const GROUP_EXPRESSIONS: Record<GroupBy, string> = {
  user: "user_id",
  model: "model",
  day: "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')",
  role: "coalesce(role, '')",
};

interface SummaryRow {
  key: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_micro_usd: number;
  errors: number;
  blocked: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

/**
 * Totals per group over [from, to), with nearest-rank p50/p95 latency, in one statement. The
 * range condition uses ai_usage_created_idx, so a month of rows is one index range scan.
 */
export async function usageSummary(d1: D1Database, range: { from: number; to: number }, groupBy: GroupBy, limit: number) {
  const key = GROUP_EXPRESSIONS[groupBy];
  const { results } = await d1
    .prepare(
      `with rows as (
         select ${key} as key, input_tokens, output_tokens, cost_micro_usd, outcome, latency_ms,
                row_number() over (partition by ${key} order by latency_ms) as rank,
                count(*) over (partition by ${key}) as n
         from ai_usage where created_at >= ?1 and created_at < ?2)
       select key, count(*) as requests, sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens,
              sum(cost_micro_usd) as cost_micro_usd,
              sum(outcome in ('error', 'aborted')) as errors, sum(outcome = 'blocked') as blocked,
              min(case when rank >= 0.5 * n then latency_ms end) as latency_p50_ms,
              min(case when rank >= 0.95 * n then latency_ms end) as latency_p95_ms
       from rows group by key order by cost_micro_usd desc, requests desc, key limit ?3`,
    )
    .bind(range.from, range.to, limit)
    .all<SummaryRow>();
  return results.map((row) => ({
    key: row.key,
    requests: row.requests,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cost_usd: toUsd(row.cost_micro_usd),
    cost_micro_usd: row.cost_micro_usd,
    errors: row.errors,
    blocked_screenings: row.blocked,
    latency_p50_ms: row.latency_p50_ms ?? 0,
    latency_p95_ms: row.latency_p95_ms ?? 0,
  }));
}

/** The caller's tokens and cost per model since `since` (today, this month). */
export async function userUsageByModel(d1: D1Database, userId: string, since: number) {
  const { results } = await d1
    .prepare(
      `select model, count(*) as requests, sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens, sum(cost_micro_usd) as cost_micro_usd
       from ai_usage where user_id = ? and created_at >= ? group by model order by model`,
    )
    .bind(userId, since)
    .all<{ model: string; requests: number; input_tokens: number; output_tokens: number; cost_micro_usd: number }>();
  return results.map((row) => ({ model: row.model, requests: row.requests, input_tokens: row.input_tokens, output_tokens: row.output_tokens, cost_usd: toUsd(row.cost_micro_usd) }));
}
