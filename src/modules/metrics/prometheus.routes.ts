import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { PROMETHEUS_CONTENT_TYPE } from "../../lib/metrics/exposition";
import { errorResponses } from "../../lib/openapi";
import { requirePermission } from "../../middleware/auth";
import { APP_VERSION } from "../../version";
import { scrapeMetrics } from "./prometheus.service";

export const prometheusRoutes = new OpenAPIHono<AppEnv>();

const scrapePrometheusMetrics = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "scrapePrometheusMetrics",
  tags: ["Metrics"],
  summary: "Prometheus scrape: request, auth, limiter, dependency and AI metrics, plus the service counters",
  description:
    "The Prometheus text exposition format (0.0.4). Totals are aggregated across isolates by a Durable Object; " +
    "see docs/metrics.md for every metric. Scrape with a bearer token (or API key) that has `metrics:read`.",
  ...requirePermission("metrics:read"),
  responses: {
    ...errorResponses(401, 403, 429),
    200: {
      description: "Every metric in the text exposition format",
      content: { "text/plain": { schema: z.string().max(10_000_000).openapi({ example: "# HELP edge_auth_http_requests_total ...\n" }) } },
    },
  },
});

prometheusRoutes.openapi(scrapePrometheusMetrics, async (c) => {
  const text = await scrapeMetrics(c.env, APP_VERSION, c.get("logger"));
  c.header("Cache-Control", "no-store");
  return c.text(text, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
});
