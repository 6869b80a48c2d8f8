import { z } from "@hono/zod-openapi";

export const LivenessSchema = z
  .object({
    status: z.literal("ok"),
    version: z.string().openapi({ example: "0.1.0" }),
  })
  .openapi("Liveness");

export const ReadinessCheckSchema = z
  .object({
    name: z.string().openapi({ example: "d1" }),
    ok: z.boolean(),
    latency_ms: z.number().int().nonnegative(),
    error: z.string().optional().openapi({ description: "Why the check failed (no secrets)" }),
  })
  .openapi("ReadinessCheck");

export const ReadinessSchema = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    version: z.string(),
    checks: z.array(ReadinessCheckSchema),
    failed: z.array(z.string()).openapi({ description: "Names of the failed checks" }),
  })
  .openapi("Readiness");

export type ReadinessCheck = z.infer<typeof ReadinessCheckSchema>;
