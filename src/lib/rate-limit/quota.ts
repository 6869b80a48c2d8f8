import type { Quota, QuotaPeriod, QuotaStatus, QuotaTerms, ReserveResult, SettleResult } from "../../durable-objects/quota";
import { partitionName } from "./keys";

export type { QuotaPeriod, QuotaStatus, ReserveResult, SettleResult };

export interface QuotaSpec {
  /** Which budget, e.g. `ai_tokens` or `file_bytes`; part of the object's name. */
  name: string;
  limit: number;
  period: QuotaPeriod;
  /** How long an unsettled reservation holds its units (default 300 s). */
  reservationTtlSeconds?: number;
}

/** A typed handle on one subject's budget; every method is one RPC. */
export interface QuotaClient {
  /** Holds `units` before the work starts; `ok: false` when they do not fit. */
  reserve(units: number): Promise<ReserveResult>;
  /** Charges what the work actually used and ends the reservation. */
  settle(reservationId: string, actual: number): Promise<SettleResult>;
  /** Ends a reservation without charging (the work failed or was abandoned). */
  release(reservationId: string): Promise<SettleResult>;
  /** Charges (positive) or credits (negative) without a reservation. */
  adjust(units: number): Promise<QuotaStatus>;
  usage(): Promise<QuotaStatus>;
}

/**
 * The budget `spec` of one subject (a user id, usually), held by its own Durable Object whose
 * name is a SHA-256 of the budget and the subject.
 *
 * @example
 * const budget = quotaFor(c.env.QUOTA, { name: "ai_tokens", limit: 100_000, period: "day" }, userId);
 * const hold = await budget.reserve(4_000);
 * if (!hold.ok) throw new ProblemError("rate_limited", { ... });
 * try { const used = await runModel(); await budget.settle(hold.reservationId, used); }
 * catch (error) { await budget.release(hold.reservationId); throw error; }
 *
 * @example File storage ("reserve N bytes, commit, or release"):
 * const storage = quotaFor(c.env.QUOTA, { name: "file_bytes", limit: config.FILES_QUOTA_BYTES, period: "total" }, userId);
 * const hold = await storage.reserve(size); ... await storage.settle(hold.reservationId, size);
 * // and when the file is deleted: await storage.adjust(-size);
 */
export function quotaFor(namespace: DurableObjectNamespace<Quota>, spec: QuotaSpec, subject: string): QuotaClient {
  const terms: QuotaTerms = { limit: spec.limit, period: spec.period };
  const ttl = spec.reservationTtlSeconds ?? 300;
  let stub: Promise<DurableObjectStub<Quota>> | undefined;
  const object = () => (stub ??= partitionName(spec.name, subject, "quota").then((name) => namespace.get(namespace.idFromName(name))));
  return {
    reserve: async (units) => (await object()).reserve(checkUnits(units), terms, ttl),
    settle: async (reservationId, actual) => (await object()).settle(reservationId, checkUnits(actual), terms),
    release: async (reservationId) => (await object()).settle(reservationId, 0, terms),
    adjust: async (units) => {
      if (!Number.isSafeInteger(units)) throw new RangeError("units must be an integer");
      return (await object()).adjust(units, terms);
    },
    usage: async () => (await object()).usage(terms),
  };
}

/** Checked here as well as in the object, so a caller's mistake throws locally, with its stack. */
function checkUnits(units: number): number {
  if (!Number.isSafeInteger(units) || units < 0) throw new RangeError("units must be a non-negative integer");
  return units;
}
