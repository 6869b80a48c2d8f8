import { z } from "@hono/zod-openapi";

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Usd = z.number().min(0).max(1e12);
/** Nullable integers get their format here: the document builder fills it in only for plain integers. */
const NullableCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ format: "int64" }).nullable();

const ModelUsageSchema = z.object({ model: z.string().max(128), requests: Count, input_tokens: Count, output_tokens: Count, cost_usd: Usd });

const BudgetSchema = z.object({
  limit: NullableCount.openapi({ description: "null: unlimited" }),
  used: Count,
  reserved: Count.openapi({ description: "Held by calls in progress" }),
  remaining: NullableCount,
  resets_in_seconds: NullableCount,
});

export const MyUsageSchema = z
  .object({
    today: z.object({ tokens: Count, cost_usd: Usd, models: z.array(ModelUsageSchema).max(200) }),
    month: z.object({ tokens: Count, cost_usd: Usd, models: z.array(ModelUsageSchema).max(200) }),
    budgets: z.object({
      daily_tokens: BudgetSchema,
      monthly_cost_usd: BudgetSchema.extend({ limit: Usd.nullable(), used: Usd, reserved: Usd, remaining: Usd.nullable() }),
      role: z.string().max(64).nullable().openapi({ description: "The role whose policy applies (the most generous)" }),
    }),
  })
  .openapi("AiUsage");

export const SummaryQuerySchema = z.object({
  from: z.iso.datetime().max(30).optional().openapi({ param: { name: "from", in: "query" }, description: "Start (inclusive); default 30 days ago" }),
  to: z.iso.datetime().max(30).optional().openapi({ param: { name: "to", in: "query" }, description: "End (exclusive); default now" }),
  group_by: z.enum(["user", "model", "day", "role"]).default("model").openapi({ param: { name: "group_by", in: "query" } }),
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ param: { name: "limit", in: "query" } }),
});

export const SummarySchema = z
  .object({
    from: z.iso.datetime().max(30),
    to: z.iso.datetime().max(30),
    group_by: z.enum(["user", "model", "day", "role"]),
    groups: z
      .array(
        z.object({
          key: z.string().max(128).openapi({ description: "The user id, model, day (YYYY-MM-DD) or role" }),
          requests: Count,
          input_tokens: Count,
          output_tokens: Count,
          cost_usd: Usd,
          cost_micro_usd: Count,
          errors: Count,
          blocked_screenings: Count,
          latency_p50_ms: Count,
          latency_p95_ms: Count,
          risk_score: z.number().min(0).max(1).optional().openapi({ description: "group_by=user: 0..1 from blocked screenings in the last 24 h" }),
        }),
      )
      .max(1000),
  })
  .openapi("AiUsageSummary");
