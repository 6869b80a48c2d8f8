import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Accepts a caller's X-Request-Id only when it is short and plain (so it cannot inject into logs
 * or headers); otherwise generates one. Every response carries it back.
 */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const inbound = c.req.header("X-Request-Id");
  const id = inbound && SAFE_REQUEST_ID.test(inbound) ? inbound : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  c.res.headers.set("X-Request-Id", id);
});
