import { createMiddleware } from "hono/factory";
import { instrumentBindings } from "../adapters/instrumented-bindings";
import type { AppEnv } from "../bindings";
import { loadConfig } from "../env";
import { flushMetrics } from "../lib/metrics/flush";
import { configureMetrics, flushDue, recordMetric, takeBatch } from "../lib/metrics/recorder";
import { routeTemplate } from "../lib/route-template";

const DEFAULTS = { METRICS_ENABLED: true, METRICS_FLUSH_EVENTS: 500, METRICS_FLUSH_MS: 10_000 };

/**
 * RED metrics for every request (rate, errors, duration per route template and status class),
 * recorded after the response is known, and the hand-over of the isolate's buffer to the
 * aggregator once it is due, in `waitUntil` so no response waits for it.
 */
export const requestMetrics = createMiddleware<AppEnv>(async (c, next) => {
  const loaded = loadConfig(c.env);
  const settings = loaded.ok ? loaded.config : DEFAULTS;
  configureMetrics({ enabled: settings.METRICS_ENABLED, analytics: c.env.METRICS_ANALYTICS });
  if (!settings.METRICS_ENABLED) return next();
  const started = Date.now();
  try {
    await next();
  } finally {
    const status = c.res.status;
    const route = routeTemplate(c);
    const method = c.req.method;
    const statusClass = `${Math.floor(status / 100)}xx`;
    recordMetric("edge_auth_http_requests_total", { method, route, status_class: statusClass });
    recordMetric("edge_auth_http_request_duration_seconds", { method, route }, (Date.now() - started) / 1000);
    if (status >= 400) {
      recordMetric("edge_auth_http_request_errors_total", { method, route, status_class: statusClass, code: c.get("errorCode") ?? "none" });
    }
    const now = Date.now();
    if (flushDue(now, settings.METRICS_FLUSH_EVENTS, settings.METRICS_FLUSH_MS)) {
      const flushing = flushMetrics(c.env, c.get("logger"), takeBatch(now));
      try {
        c.executionCtx.waitUntil(flushing);
      } catch {
        // No execution context (a unit test calling the app directly): the flush still runs.
      }
    }
  }
});

/**
 * Swaps the request's bindings for instrumented ones (timed, counted, and faulty in chaos mode);
 * runs after the configuration is validated.
 */
export const instrumentedBindings = createMiddleware<AppEnv>(async (c, next) => {
  c.env = instrumentBindings(c.env, c.get("config"));
  await next();
});
