import type { CounterTerms, Quota, QuotaPeriod, QuotaStatus, QuotaTerms, ReserveResult, SettleResult } from "../../durable-objects/quota";
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

/** One counter of a `quotaSetFor` object. */
export interface CounterSpec {
  /** `""` for the object's own counter (the one `quotaFor` with the same name reaches). */
  counter: string;
  limit: number;
  period: QuotaPeriod;
  /**
   * The `quotaFor` name whose object held this counter for the same subject before: its count is
   * moved in once (see `CounterTerms.movedFrom` in src/durable-objects/quota-terms.ts).
   */
  movedFrom?: string;
}

export type QuotaSetReservation<K extends string> =
  | { ok: true; reservationId: string; counters: Record<K, QuotaStatus> }
  | { ok: false; counters: Record<K, QuotaStatus & { fits: boolean }> };

/** Several budgets of one subject in one object: every method is one RPC, whatever the count. */
export interface QuotaSetClient<K extends string> {
  /** Holds units on every counter, or on none when any does not fit. */
  reserve(units: Record<K, number>): Promise<QuotaSetReservation<K>>;
  /** Charges what the work used on each counter and ends the reservation; false when it was unknown. */
  settle(reservationId: string, actual: Record<K, number>): Promise<boolean>;
  release(reservationId: string): Promise<boolean>;
  adjust(units: Record<K, number>): Promise<Record<K, QuotaStatus>>;
  usage(): Promise<Record<K, QuotaStatus>>;
}

/**
 * The budgets `counters` of one subject, held by the one object `quotaFor(namespace, { name }, subject)`
 * reaches, so all-or-nothing holds across them are exact and cost one round trip.
 *
 * @example
 * const ai = quotaSetFor(c.env.QUOTA, "ai_tokens", { tokens: { counter: "", limit: 100_000, period: "day" }, cost: { counter: "ai_cost_micro_usd", limit: 5_000_000, period: "month" } }, userId);
 * const hold = await ai.reserve({ tokens: 4_000, cost: 1_200 });
 * if (hold.ok) await ai.settle(hold.reservationId, { tokens: 2_500, cost: 800 });
 */
export function quotaSetFor<K extends string>(
  namespace: DurableObjectNamespace<Quota>,
  name: string,
  counters: Record<K, CounterSpec>,
  subject: string,
  reservationTtlSeconds = 300,
): QuotaSetClient<K> {
  const keys = Object.keys(counters) as K[];
  const byKey = <T>(values: readonly T[]) => Object.fromEntries(keys.map((key, index) => [key, values[index]!])) as Record<K, T>;
  // The object and the terms with the old objects' names, hashed once per client.
  let target: Promise<{ stub: DurableObjectStub<Quota>; terms: CounterTerms[] }> | undefined;
  const resolve = () =>
    (target ??= (async () => {
      const terms = await Promise.all(
        keys.map(async (key): Promise<CounterTerms> => {
          const { counter, limit, period, movedFrom } = counters[key];
          return { counter, limit, period, ...(movedFrom === undefined ? {} : { movedFrom: await partitionName(movedFrom, subject, "quota") }) };
        }),
      );
      return { stub: namespace.get(namespace.idFromName(await partitionName(name, subject, "quota"))), terms };
    })());
  const withUnits = <F extends string>(terms: CounterTerms[], field: F, units: Record<K, number>, check: (units: number) => number) =>
    terms.map((term, index) => ({ ...term, [field]: check(units[keys[index]!]) }) as CounterTerms & Record<F, number>);
  return {
    async reserve(units) {
      const { stub, terms } = await resolve();
      const result = await stub.reserveAll(withUnits(terms, "units", units, checkUnits), reservationTtlSeconds);
      return result.ok ? { ok: true, reservationId: result.reservationId, counters: byKey(result.counters) } : { ok: false, counters: byKey(result.counters) };
    },
    async settle(reservationId, actual) {
      const { stub, terms } = await resolve();
      return (await stub.settleAll(reservationId, withUnits(terms, "actual", actual, checkUnits))).ok;
    },
    async release(reservationId) {
      const { stub, terms } = await resolve();
      return (await stub.settleAll(reservationId, terms.map((term) => ({ ...term, actual: 0 })))).ok;
    },
    async adjust(units) {
      const { stub, terms } = await resolve();
      return byKey(await stub.adjustAll(withUnits(terms, "units", units, checkInteger)));
    },
    async usage() {
      const { stub, terms } = await resolve();
      return byKey(await stub.usageAll(terms));
    },
  };
}

function checkInteger(units: number): number {
  if (!Number.isSafeInteger(units)) throw new RangeError("units must be an integer");
  return units;
}

/** Checked here as well as in the object, so a caller's mistake throws locally, with its stack. */
function checkUnits(units: number): number {
  if (!Number.isSafeInteger(units) || units < 0) throw new RangeError("units must be a non-negative integer");
  return units;
}
