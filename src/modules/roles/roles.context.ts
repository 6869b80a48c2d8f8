import type { Context } from "hono";
import type { AppEnv } from "../../bindings";
import { principalOf } from "../../middleware/auth";
import type { Caller } from "./roles.guards";

/** The caller as the escalation guards see it: the permissions loaded from D1 for this request. */
export function callerOf(c: Context<AppEnv>): Caller {
  const { userId, sessionId, permissions } = principalOf(c);
  return { userId, sessionId, permissions };
}
