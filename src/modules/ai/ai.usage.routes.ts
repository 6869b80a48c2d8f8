import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonContent } from "../../lib/openapi";
import { ProblemError } from "../../lib/problem";
import { principalOf, requirePermission } from "../../middleware/auth";
import { budgetsFor, policyOf } from "./ai.budget";
import { toUsd } from "./ai.cost";
import { usageSummary, userUsageByModel } from "./ai.summary";
import { riskScore } from "./ai.usage";
import { MyUsageSchema, SummaryQuerySchema, SummarySchema } from "./ai.usage.schemas";

export const aiUsageRoutes = new OpenAPIHono<AppEnv>();

const DAY_MS = 86_400_000;

const myUsageRoute = createRoute({
  method: "get",
  path: "/ai/usage",
  operationId: "getMyAiUsage",
  tags: ["AI"],
  summary: "Your AI tokens and cost today and this month, per model, and what remains of each budget",
  ...requirePermission("ai:use"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(MyUsageSchema, "Your usage") },
});

aiUsageRoutes.openapi(myUsageRoute, async (c) => {
  const principal = principalOf(c);
  const userId = principal.userId;
  const now = Date.now();
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const date = new Date(now);
  const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const policy = policyOf(principal);
  const budgets = budgetsFor(c.env, userId, policy);
  const [today, month, { tokens, cost }] = await Promise.all([
    userUsageByModel(c.env.DB, userId, dayStart),
    userUsageByModel(c.env.DB, userId, monthStart),
    budgets.counters.usage(),
  ]);
  const total = (rows: typeof today) => ({
    tokens: rows.reduce((sum, row) => sum + row.input_tokens + row.output_tokens, 0),
    cost_usd: toUsd(rows.reduce((sum, row) => sum + Math.round(row.cost_usd * 1_000_000), 0)),
    models: rows,
  });
  const limited = (limit: number | null) => limit !== null;
  c.header("Cache-Control", "no-store");
  return c.json(
    {
      today: total(today),
      month: total(month),
      budgets: {
        role: policy.role,
        daily_tokens: {
          limit: policy.dailyTokens,
          used: tokens.used,
          reserved: tokens.reserved,
          remaining: limited(policy.dailyTokens) ? tokens.remaining : null,
          resets_in_seconds: tokens.reset,
        },
        monthly_cost_usd: {
          limit: policy.monthlyCostMicroUsd === null ? null : toUsd(policy.monthlyCostMicroUsd),
          used: toUsd(cost.used),
          reserved: toUsd(cost.reserved),
          remaining: limited(policy.monthlyCostMicroUsd) ? toUsd(cost.remaining) : null,
          resets_in_seconds: cost.reset,
        },
      },
    },
    200,
  );
});

const summaryRoute = createRoute({
  method: "get",
  path: "/ai/usage/summary",
  operationId: "getAiUsageSummary",
  tags: ["AI"],
  summary: "Tokens, requests, cost, errors, blocked screenings and latency p50/p95, grouped by user, model, day or role",
  ...requirePermission("ai:manage"),
  request: { query: SummaryQuerySchema },
  responses: { ...errorResponses(401, 403, 422, 429), 200: jsonContent(SummarySchema, "The summary") },
});

aiUsageRoutes.openapi(summaryRoute, async (c) => {
  const query = c.req.valid("query");
  const to = query.to ? Date.parse(query.to) : Date.now();
  const from = query.from ? Date.parse(query.from) : to - 30 * DAY_MS;
  if (from >= to) throw new ProblemError("validation_failed", { detail: "`from` must be before `to`.", errors: [{ path: "query.from", message: "must be before to" }] });
  const groups = await usageSummary(c.env.DB, { from, to }, query.group_by, query.limit);
  if (query.group_by === "user" && groups.length > 0) {
    // Risk is about the last 24 hours whatever the range: it is what tightens the rate limit now.
    const { results } = await c.env.DB.prepare(
      `select user_id, count(*) as n from ai_usage where created_at >= ? and outcome = 'blocked' and user_id in (${groups.map(() => "?").join(", ")}) group by user_id`,
    )
      .bind(Date.now() - DAY_MS, ...groups.map((group) => group.key))
      .all<{ user_id: string; n: number }>();
    const blocks = new Map(results.map((row) => [row.user_id, row.n]));
    for (const group of groups) Object.assign(group, { risk_score: riskScore(blocks.get(group.key) ?? 0) });
  }
  c.header("Cache-Control", "no-store");
  return c.json({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), group_by: query.group_by, groups }, 200);
});
