import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { ProblemError } from "../lib/problem";

/**
 * In staging and production plain http is never served: safe methods are redirected with 308,
 * anything else is refused so a credential sent in clear is not silently accepted.
 */
export const httpsOnly = createMiddleware<AppEnv>(async (c, next) => {
  const environment = c.get("config").ENVIRONMENT;
  const url = new URL(c.req.url);
  if ((environment === "staging" || environment === "production") && url.protocol === "http:") {
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      url.protocol = "https:";
      return c.redirect(url.toString(), 308);
    }
    throw new ProblemError("https_required", { detail: "Use https:// for this API." });
  }
  await next();
});
