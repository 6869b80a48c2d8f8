import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { loadConfig } from "../env";
import { ProblemError } from "../lib/problem";

const reported = new WeakSet<object>();

/**
 * Fails closed: with an invalid configuration every request answers 503 `misconfigured`, and the
 * log says exactly what is wrong (once per isolate). The response itself names nothing secret.
 */
export const configGuard = createMiddleware<AppEnv>(async (c, next) => {
  const loaded = loadConfig(c.env);
  if (!loaded.ok) {
    if (!reported.has(c.env)) {
      reported.add(c.env);
      c.get("logger").error("configuration invalid", { problems: loaded.problems });
    }
    throw new ProblemError("misconfigured", {
      detail: "The service configuration is invalid; the operator has been told what to fix.",
      headers: { "Retry-After": "60" },
    });
  }
  c.set("config", loaded.config);
  await next();
});
