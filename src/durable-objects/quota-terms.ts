/**
 * The terms, results and period arithmetic of the Quota object (src/durable-objects/quota.ts): pure,
 * and shared by its typed client (src/lib/rate-limit/quota.ts).
 */

/** `day` and `month` reset at UTC midnight; `total` never resets (a running balance, e.g. stored bytes). */
export type QuotaPeriod = "day" | "month" | "total";

export interface QuotaTerms {
  /** Units allowed per period. */
  limit: number;
  period: QuotaPeriod;
}

export interface QuotaStatus {
  /** The period the numbers belong to: `2026-05-01`, `2026-05` or `total`. */
  period: string;
  limit: number;
  /** Settled usage. */
  used: number;
  /** Units held by unsettled, unexpired reservations. */
  reserved: number;
  /** `limit - used - reserved`, never negative. */
  remaining: number;
  /** Seconds until the period resets; null for `total`. */
  reset: number | null;
}

export type ReserveResult =
  | ({ ok: true; reservationId: string; expiresAt: number } & QuotaStatus)
  | ({ ok: false } & QuotaStatus);

export type SettleResult =
  | ({ ok: true; held: number; charged: number } & QuotaStatus)
  /** The reservation is unknown: already settled, or expired more than LAPSED_SETTLE_MS ago. */
  | { ok: false; reason: "unknown_reservation" };

/**
 * One counter of a call. An object holds any number of counters of one subject (the AI budget
 * object: daily tokens and monthly cost), so work that spends several budgets takes one call. The
 * counter named `""` is the object's own: its rows carry no prefix, as before objects held several.
 */
export interface CounterTerms extends QuotaTerms {
  counter: string;
  /**
   * The object name (as given to `idFromName`) of an object that held this counter as its own
   * before it moved here. The first call that finds no row for the counter's current period
   * drains that object (`drain`) into it, under blockConcurrencyWhile, so nothing it counted is
   * lost or counted twice; later calls in the period find the row and ask nothing.
   */
  movedFrom?: string;
}

export type ReserveAllResult =
  | { ok: true; reservationId: string; expiresAt: number; counters: QuotaStatus[] }
  /** Nothing is held; `fits` tells which counters refused. */
  | { ok: false; counters: Array<QuotaStatus & { fits: boolean }> };

export type SettleAllResult =
  /** Per counter; `held` 0 for a counter the reservation did not hold. */
  | { ok: true; counters: Array<{ held: number; charged: number } & QuotaStatus> }
  | { ok: false; reason: "unknown_reservation" };

/**
 * Named counters share the tables of the object's own counter (no layout change for objects that
 * predate them): their period keys and reservation ids carry `<counter>/`, which no plain period
 * key (`2026-05-01`, `2026-05`, `total`) or UUID contains.
 */
export const prefixOf = (counter: string) => (counter === "" ? "" : `${counter}/`);
export const storedKey = (counter: string, period: string) => prefixOf(counter) + period;
export const rowId = (reservationId: string, counter: string) => (counter === "" ? reservationId : `${reservationId}/${counter}`);

export function assertCounters(parts: ReadonlyArray<{ counter: string }>): void {
  const names = new Set<string>();
  for (const { counter } of parts) {
    if (counter !== "" && !/^[a-z][a-z0-9_]*$/.test(counter)) throw new RangeError(`invalid counter name ${JSON.stringify(counter)}`);
    if (names.has(counter)) throw new RangeError(`counter ${JSON.stringify(counter)} named twice`);
    names.add(counter);
  }
}

export function assertUnits(units: number): void {
  if (!Number.isSafeInteger(units) || units < 0) throw new RangeError("units must be a non-negative integer");
}

const DAY_MS = 86_400_000;

/** The period a moment belongs to, in UTC. */
export function periodKey(period: QuotaPeriod, now: number): string {
  const iso = new Date(now).toISOString();
  if (period === "day") return iso.slice(0, 10);
  if (period === "month") return iso.slice(0, 7);
  return "total";
}

/** When the period containing `now` ends (ms), or null when it never does. */
export function periodEnd(period: QuotaPeriod, now: number): number | null {
  if (period === "total") return null;
  const date = new Date(now);
  if (period === "day") return Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}
