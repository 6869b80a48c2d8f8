import { env } from "cloudflare:test";
import { AUDIT_SEALER_NAME, type AuditSealer } from "../../src/durable-objects/audit-sealer";
import type { SealResult } from "../../src/lib/audit";

/** Runs the single sealer now (instead of waiting for its alarm) and returns what it sealed. */
export function sealAuditLog(): Promise<SealResult> {
  return sealerStub().seal();
}

/** The single sealer's stub (to run or inspect its alarm). */
export function sealerStub(): DurableObjectStub<AuditSealer> {
  return env.AUDIT_SEALER.get(env.AUDIT_SEALER.idFromName(AUDIT_SEALER_NAME));
}
