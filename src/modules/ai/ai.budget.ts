import type { Bindings } from "../../bindings";
import { rateLimitField, rateLimitPolicyField } from "../../lib/rate-limit/headers";
import { quotaSetFor, type QuotaSetClient, type QuotaStatus } from "../../lib/rate-limit/quota";
import type { Principal, RoleAiLimits } from "../../lib/principal";
import { ProblemError, QUOTA_EXCEEDED_TYPE } from "../../lib/problem";

/** A user's AI policy: the most generous of their roles' (null: unlimited). */
export interface AiPolicy {
  dailyTokens: number | null;
  monthlyCostMicroUsd: number | null;
  /** The role whose daily token limit applies (recorded on usage rows). */
  role: string | null;
}

/** null beats any number; otherwise the larger wins. */
const moreGenerous = (a: number | null, b: number | null): boolean => (a === null ? b !== null : b !== null && a > b);

/**
 * The caller's AI policy from the limits read with the principal (src/lib/principal.ts): the same
 * query as the roles, so a changed role policy applies from the caller's next request, with no
 * second read on the request path.
 */
export const policyOf = (principal: Pick<Principal, "aiLimits">): AiPolicy => combinePolicies(principal.aiLimits);

/** One D1 read: the AI limits of every role the user holds now (for work without a principal: the queue). */
export async function loadPolicy(db: D1Database, userId: string): Promise<AiPolicy> {
  const { results } = await db
    .prepare("select r.name, r.ai_daily_token_limit, r.ai_monthly_cost_limit_micro_usd from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = ? order by r.name")
    .bind(userId)
    .all<{ name: string; ai_daily_token_limit: number | null; ai_monthly_cost_limit_micro_usd: number | null }>();
  return combinePolicies(results.map((row) => ({ role: row.name, dailyTokens: row.ai_daily_token_limit, monthlyCostMicroUsd: row.ai_monthly_cost_limit_micro_usd })));
}

/** Roles in name order; the first of equally generous token limits names the role. */
export function combinePolicies(rows: readonly RoleAiLimits[]): AiPolicy {
  if (rows.length === 0) return { dailyTokens: 0, monthlyCostMicroUsd: 0, role: null };
  let tokens = rows[0]!;
  let cost = rows[0]!.monthlyCostMicroUsd;
  for (const row of rows.slice(1)) {
    if (moreGenerous(row.dailyTokens, tokens.dailyTokens)) tokens = row;
    if (moreGenerous(row.monthlyCostMicroUsd, cost)) cost = row.monthlyCostMicroUsd;
  }
  return { dailyTokens: tokens.dailyTokens, monthlyCostMicroUsd: cost, role: tokens.role };
}

/** Unlimited budgets still count (GET /ai/usage shows usage), against a limit nothing reaches. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;
const DAY_SECONDS = 86_400;
const MONTH_SECONDS = 2_592_000;
/** A stream may run for minutes; a reservation that outlives its call is freed by the object's alarm. */
const RESERVATION_TTL_SECONDS = 900;

export interface AiBudgets {
  /** Daily tokens and monthly cost: two counters of one object, so every step is one call. */
  counters: QuotaSetClient<"tokens" | "cost">;
  policy: AiPolicy;
}

/**
 * The user's AI budget object. It keeps the name of the object that held only the daily tokens
 * before the cost moved in, with the tokens as its own counter, so the tokens used and held before
 * that change still count. The monthly cost counter moved in from the user's former cost object,
 * whose count for the month is taken over once per month by the first call (docs/ai.md, "Budgets").
 */
export function budgetsFor(bindings: Bindings, userId: string, policy: AiPolicy): AiBudgets {
  return {
    policy,
    counters: quotaSetFor(
      bindings.QUOTA,
      "ai_tokens",
      {
        tokens: { counter: "", limit: policy.dailyTokens ?? UNLIMITED, period: "day" },
        cost: { counter: "ai_cost_micro_usd", limit: policy.monthlyCostMicroUsd ?? UNLIMITED, period: "month", movedFrom: "ai_cost_micro_usd" },
      },
      userId,
      RESERVATION_TTL_SECONDS,
    ),
  };
}

const SETTLE_ATTEMPTS = 3;

/** What one admitted call holds; settle or release it exactly once. */
export interface Hold {
  settle(tokens: number, costMicroUsd: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * Reserves the worst case of a call (tokens and cost) before the provider is called, in one
 * Durable Object call that holds both or neither, so N parallel calls with room for one admit one.
 * When either does not fit, nothing is held and a 429 `quota-exceeded` is thrown.
 */
export async function reserve(budgets: AiBudgets, tokens: number, costMicroUsd: number): Promise<Hold> {
  const held = await budgets.counters.reserve({ tokens, cost: costMicroUsd });
  if (!held.ok) {
    const { tokens: tokenStatus, cost: costStatus } = held.counters;
    throw quotaExceeded(budgets.policy, tokenStatus.fits ? null : tokenStatus, costStatus.fits ? null : costStatus, tokens);
  }
  let done = false;
  return {
    async settle(actualTokens, actualCost) {
      if (done) return;
      done = true;
      // Settling an already-settled reservation changes nothing, so a call that failed in
      // transit can be repeated; an unsettled hold would expire and lose the charge.
      for (let attempt = 1; ; attempt++) {
        try {
          await budgets.counters.settle(held.reservationId, { tokens: actualTokens, cost: actualCost });
          return;
        } catch (error) {
          if (attempt === SETTLE_ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
    },
    async release() {
      if (done) return;
      done = true;
      await budgets.counters.release(held.reservationId);
    },
  };
}

function quotaExceeded(policy: AiPolicy, tokens: QuotaStatus | null, cost: QuotaStatus | null, wanted: number): ProblemError {
  const states = [
    ...(tokens ? [{ policy: "ai-tokens", limit: tokens.limit, window: DAY_SECONDS, remaining: tokens.remaining, reset: tokens.reset }] : []),
    ...(cost ? [{ policy: "ai-cost", limit: cost.limit, window: MONTH_SECONDS, remaining: cost.remaining, reset: cost.reset }] : []),
  ];
  const retryAfter = Math.max(1, ...states.map((state) => state.reset ?? 0));
  const detail = tokens
    ? policy.dailyTokens === 0
      ? "Your roles allow no AI use."
      : `This call may need up to ${wanted} tokens; ${tokens.remaining} of your ${tokens.limit} daily tokens remain.`
    : "Your monthly AI cost budget does not cover this call.";
  return new ProblemError("rate_limited", {
    type: QUOTA_EXCEEDED_TYPE,
    title: "Request cannot be satisfied as assigned quota has been exceeded",
    detail,
    extensions: { "violated-policies": states.map((state) => state.policy) },
    headers: { "Retry-After": String(retryAfter), "RateLimit-Policy": rateLimitPolicyField(states), RateLimit: rateLimitField(states) },
  });
}
