import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { loadConfig } from "../env";
import { createLogger } from "../lib/logger";
import { routeTemplate } from "../lib/route-template";

/**
 * Exactly one JSON line per request, written after the response is known; error details that
 * handlers and `onError` collect in `logFields` ride on it. The path is logged without its query
 * string, which may carry tokens (signed links, reset tokens).
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const loaded = loadConfig(c.env);
  const level = loaded.ok ? loaded.config.LOG_LEVEL : "info";
  const logger = createLogger(level, { request_id: c.get("requestId"), client_request_id: c.get("clientRequestId") });
  c.set("logger", logger);
  try {
    await next();
  } finally {
    const status = c.res.status;
    const cf = c.req.raw.cf as { colo?: string; country?: string } | undefined;
    const line = {
      ...c.get("logFields"),
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      route: routeTemplate(c),
      status,
      duration_ms: Date.now() - started,
      user_id: c.get("userId"),
      colo: cf?.colo,
      country: cf?.country,
      error_code: c.get("errorCode"),
    };
    if (status >= 500) logger.error("request", line);
    else if (status >= 400) logger.warn("request", line);
    else logger.info("request", line);
  }
});
