import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../env";
import { errorResponses, jsonContent } from "../../lib/openapi";
import { APP_VERSION } from "../../version";
import { LivenessSchema, ReadinessSchema } from "./health.schemas";
import { runReadinessChecks } from "./health.service";

export const healthRoutes = new OpenAPIHono<AppEnv>();

const getLiveness = createRoute({
  method: "get",
  path: "/health",
  operationId: "getLiveness",
  tags: ["Health"],
  summary: "Liveness: the worker runs (no dependencies are touched)",
  responses: { 200: jsonContent(LivenessSchema, "The worker is alive"), ...errorResponses() },
});

healthRoutes.openapi(getLiveness, (c) => {
  c.header("Cache-Control", "no-store");
  return c.json({ status: "ok" as const, version: APP_VERSION }, 200);
});

const getReadiness = createRoute({
  method: "get",
  path: "/health/ready",
  operationId: "getReadiness",
  tags: ["Health"],
  summary: "Readiness: D1, R2 and every Durable Object namespace answer",
  responses: {
    ...errorResponses(),
    200: jsonContent(ReadinessSchema, "Every dependency answered"),
    503: jsonContent(ReadinessSchema, "At least one dependency failed; `failed` names it"),
  },
});

healthRoutes.openapi(getReadiness, async (c) => {
  const checks = await runReadinessChecks(c.env);
  const failed = checks.filter((check) => !check.ok).map((check) => check.name);
  c.header("Cache-Control", "no-store");
  if (failed.length > 0) {
    c.get("logger").error("readiness check failed", { failed, checks });
    c.header("Retry-After", "10");
    return c.json({ status: "unavailable" as const, version: APP_VERSION, checks, failed }, 503);
  }
  return c.json({ status: "ready" as const, version: APP_VERSION, checks, failed }, 200);
});
