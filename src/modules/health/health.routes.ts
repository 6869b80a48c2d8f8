import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { recordMetric } from "../../lib/metrics/recorder";
import { errorResponses, jsonContent, ProblemSchema } from "../../lib/openapi";
import { APP_VERSION } from "../../version";
import { LivenessSchema, ReadinessSchema, ServiceIndexSchema } from "./health.schemas";
import { cachedReadinessChecks } from "./health.service";

export const healthRoutes = new OpenAPIHono<AppEnv>();

const getServiceIndex = createRoute({
  method: "get",
  path: "/",
  operationId: "getServiceIndex",
  tags: ["Health"],
  summary: "The service's front door: name, version and where the docs and probes are",
  responses: { 200: jsonContent(ServiceIndexSchema, "The service index"), ...errorResponses() },
});

// A resource at "/" means a bare request to the host gets an answer, and `TRACE /` a 405 with Allow.
healthRoutes.openapi(getServiceIndex, (c) => {
  c.header("Cache-Control", "no-store");
  const links = { docs: "/docs", openapi: "/openapi.json", health: "/health", problems: "/problems" };
  return c.json({ name: "Edge Auth API", version: APP_VERSION, links }, 200);
});

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
    503: {
      description: "At least one dependency failed (`failed` names it), or the service is misconfigured (a problem)",
      content: {
        "application/json": { schema: ReadinessSchema },
        "application/problem+json": { schema: ProblemSchema },
      },
    },
  },
});

healthRoutes.openapi(getReadiness, async (c) => {
  const probed = await cachedReadinessChecks(c.env);
  const checks = probed.map((result) => result.check);
  const failed = checks.filter((check) => !check.ok).map((check) => check.name);
  c.header("Cache-Control", "no-store");
  if (failed.length > 0) {
    const causes = Object.fromEntries(probed.filter((result) => result.cause).map((result) => [result.check.name, result.cause]));
    c.set("logFields", { ...c.get("logFields"), failed_checks: failed, check_errors: causes });
    for (const check of failed) recordMetric("edge_auth_readiness_failures_total", { check });
    c.header("Retry-After", "10");
    return c.json({ status: "unavailable" as const, version: APP_VERSION, checks, failed }, 503);
  }
  return c.json({ status: "ready" as const, version: APP_VERSION, checks, failed }, 200);
});
