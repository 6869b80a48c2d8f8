import { z } from "@hono/zod-openapi";

export const LivenessSchema = z
  .object({
    status: z.literal("ok"),
    version: z.string().max(64).openapi({ example: "0.1.0" }),
  })
  .openapi("Liveness");

export const ReadinessCheckSchema = z
  .object({
    name: z.string().max(64).openapi({ example: "d1" }),
    ok: z.boolean(),
    latency_ms: z.number().int().nonnegative().max(60_000),
    error: z.string().max(64).optional().openapi({ description: "`unavailable` or `timed out after … ms`; the cause is in the log only", example: "unavailable" }),
  })
  .openapi("ReadinessCheck");

export const ReadinessSchema = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    version: z.string().max(64),
    checks: z.array(ReadinessCheckSchema).max(32),
    failed: z.array(z.string().max(64)).max(32).openapi({ description: "Names of the failed checks" }),
  })
  .openapi("Readiness");

export type ReadinessCheck = z.infer<typeof ReadinessCheckSchema>;

export const ServiceIndexSchema = z
  .object({
    name: z.string().max(64).openapi({ example: "Edge Auth API" }),
    version: z.string().max(64).openapi({ example: "0.1.0" }),
    links: z
      .object({ docs: z.string().max(64), openapi: z.string().max(64), health: z.string().max(64), problems: z.string().max(64) })
      .openapi({ description: "Where to go next (the docs may need the `docs:read` permission)" }),
  })
  .openapi("ServiceIndex");
