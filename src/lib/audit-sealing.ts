import type { Context } from "hono";
import { AUDIT_SEALER_NAME } from "../durable-objects/audit-sealer";
import type { AppEnv, Bindings } from "../bindings";
import { describeError } from "./logger";

const requested = new WeakSet<object>();

/** The sealer's stub: one object for the whole deployment. */
export function auditSealer(bindings: Pick<Bindings, "AUDIT_SEALER">) {
  return bindings.AUDIT_SEALER.get(bindings.AUDIT_SEALER.idFromName(AUDIT_SEALER_NAME));
}

/**
 * After a request committed audit rows, asks the sealer (once per request, after the response)
 * to link them into the chain. A lost request is harmless: the next write, or the cron, seals them.
 */
export function requestAuditSeal(c: Context<AppEnv>): void {
  if (requested.has(c.req.raw)) return;
  requested.add(c.req.raw);
  const asking = auditSealer(c.env).schedule().catch((error: unknown) => c.get("logger")?.warn("audit seal request failed", describeError(error)));
  try {
    c.executionCtx.waitUntil(asking);
  } catch {
    // No execution context (direct app.request in unit tests): the promise runs on by itself.
  }
}
