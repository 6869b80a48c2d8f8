import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Every request gets our own id (a UUID): it is what the audit log, the problem `instance` and
 * the response's X-Request-Id carry, so a client cannot make its events look like another
 * request's. A caller's X-Request-Id, when short and plain (it cannot inject into logs), is kept
 * separately as `clientRequestId` for the log line, to correlate with the caller's traces.
 */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const inbound = c.req.header("X-Request-Id");
  if (inbound && SAFE_REQUEST_ID.test(inbound)) c.set("clientRequestId", inbound);
  const id = crypto.randomUUID();
  c.set("requestId", id);
  await next();
  c.res.headers.set("X-Request-Id", id);
});
