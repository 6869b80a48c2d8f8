import { z } from "@hono/zod-openapi";

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const MetricsSchema = z
  .object({
    version: z.string().max(32),
    generated_at: z.string().datetime().max(30),
    users: z.object({ total: Count, active: Count, disabled: Count, unverified: Count, awaiting_approval: Count }),
    sessions: z.object({ live: Count, started_last_24h: Count }),
    security_events_last_24h: z.object({
      logins_succeeded: Count,
      logins_failed: Count,
      refresh_token_reuse: Count,
      password_resets: Count,
    }),
    files: z.object({ count: Count, bytes: Count }),
  })
  .openapi("Metrics");

export type Metrics = z.infer<typeof MetricsSchema>;
