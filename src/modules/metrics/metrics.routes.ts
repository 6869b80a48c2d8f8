import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonContent } from "../../lib/openapi";
import { requirePermission } from "../../middleware/auth";
import { APP_VERSION } from "../../version";
import { MetricsSchema } from "./metrics.schemas";
import { collectMetrics } from "./metrics.service";

export const metricsRoutes = new OpenAPIHono<AppEnv>();

const getMetrics = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  tags: ["Metrics"],
  summary: "Service counters: users, live sessions, security events of the last 24 hours, storage",
  ...requirePermission("metrics:read"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(MetricsSchema, "Current counters") },
});

metricsRoutes.openapi(getMetrics, async (c) => {
  const metrics = await collectMetrics(c.env.DB, APP_VERSION);
  c.header("Cache-Control", "no-store");
  return c.json(metrics, 200);
});
