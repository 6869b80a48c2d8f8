import { SqlObject } from "./sql-object";
import { assertCounters, assertUnits, periodEnd, periodKey, prefixOf, rowId, storedKey } from "./quota-terms";
import type { CounterTerms, QuotaStatus, QuotaTerms, ReserveAllResult, ReserveResult, SettleAllResult, SettleResult } from "./quota-terms";

export * from "./quota-terms";

interface ReservationRow extends Record<string, SqlStorageValue> {
  period: string;
  period_end: number | null;
  units: number;
}

const DAY_MS = 86_400_000;
/**
 * How long an expired reservation can still be settled. Expiry frees the held units for others,
 * but work that finishes late must still be charged: a slow call is exactly when budgets leak.
 */
export const LAPSED_SETTLE_MS = DAY_MS;

/**
 * A budget per key and period for work that is not a request count: AI tokens per user per UTC
 * day, stored bytes per user in total. Work reserves its worst case before it starts and settles
 * the actual amount afterwards; reservations that are never settled expire and free their units.
 * Each call is synchronous SQLite work with no await, so 50 parallel `reserve(1)` calls against one
 * free unit admit exactly one. Budgets spent together (AI tokens and cost) are counters of one
 * object (`reserveAll`), so a call holds both in one round trip and still admits exactly.
 */
export class Quota extends SqlObject {
  protected readonly schema = `create table if not exists usage (
       period text primary key,
       used integer not null,
       expires_at integer
     );
     create table if not exists reservations (
       id text primary key,
       period text not null,
       period_end integer,
       units integer not null,
       expires_at integer not null
     );
     create table if not exists lapsed_reservations (
       id text primary key,
       period text not null,
       period_end integer,
       units integer not null,
       forget_at integer not null
     );`;

  /** Holds `units` if they fit in what is left of the period. */
  reserve(units: number, terms: QuotaTerms, ttlSeconds = 300): ReserveResult {
    const result = this.reserveNow([{ counter: "", units, ...terms }], ttlSeconds);
    if (!result.ok) {
      const { fits: _, ...status } = result.counters[0]!;
      return { ok: false, ...status };
    }
    return { ok: true, reservationId: result.reservationId, expiresAt: result.expiresAt, ...result.counters[0]! };
  }

  /**
   * Holds units on several counters at once, all or none: when any does not fit, nothing is held.
   * One reservation id covers every counter; settle or release it with `settleAll`.
   */
  async reserveAll(parts: ReadonlyArray<CounterTerms & { units: number }>, ttlSeconds = 300): Promise<ReserveAllResult> {
    const moving = this.moveIn(parts);
    if (moving) await moving;
    return this.reserveNow(parts, ttlSeconds);
  }

  private reserveNow(parts: ReadonlyArray<CounterTerms & { units: number }>, ttlSeconds: number): ReserveAllResult {
    const now = this.clock();
    assertCounters(parts);
    for (const part of parts) assertUnits(part.units);
    this.prepare(now);
    const before = parts.map((part) => {
      const status = this.status(part.counter, periodKey(part.period, now), part, now);
      return { ...status, fits: part.units <= status.remaining };
    });
    if (before.some((status) => !status.fits)) return { ok: false, counters: before };
    const reservationId = crypto.randomUUID();
    const expiresAt = now + ttlSeconds * 1000;
    for (const part of parts) {
      this.ctx.storage.sql.exec(
        "insert into reservations (id, period, period_end, units, expires_at) values (?, ?, ?, ?, ?)",
        rowId(reservationId, part.counter),
        storedKey(part.counter, periodKey(part.period, now)),
        periodEnd(part.period, now),
        part.units,
        expiresAt,
      );
    }
    this.wakeAt(expiresAt);
    return { ok: true, reservationId, expiresAt, counters: parts.map((part) => this.status(part.counter, periodKey(part.period, now), part, now)) };
  }

  /**
   * Ends a reservation and charges `actual` units: less than reserved refunds the difference, more
   * charges it (usage may then exceed the limit; the next reserve fails). `settle(id, 0)` releases
   * the reservation without charging. Exact also for slow work: a reservation that expired (its
   * units were freed) is still charged when settled within LAPSED_SETTLE_MS, and when the period it
   * was admitted in has ended, the units are charged to the current period instead of being lost.
   */
  settle(reservationId: string, actual: number, terms: QuotaTerms): SettleResult {
    const result = this.settleNow(reservationId, [{ counter: "", actual, ...terms }]);
    return result.ok ? { ok: true, ...result.counters[0]! } : result;
  }

  /** `settle` for a reservation of `reserveAll`: every counter it held, in one call. */
  async settleAll(reservationId: string, parts: ReadonlyArray<CounterTerms & { actual: number }>): Promise<SettleAllResult> {
    const moving = this.moveIn(parts);
    if (moving) await moving;
    return this.settleNow(reservationId, parts);
  }

  private settleNow(reservationId: string, parts: ReadonlyArray<CounterTerms & { actual: number }>): SettleAllResult {
    const now = this.clock();
    assertCounters(parts);
    for (const part of parts) assertUnits(part.actual);
    this.prepare(now);
    const rows = parts.map((part) => this.take(rowId(reservationId, part.counter)));
    if (rows.every((row) => row === undefined)) return { ok: false, reason: "unknown_reservation" };
    const counters = parts.map((part, index) => {
      const row = rows[index];
      if (!row) return { held: 0, charged: 0, ...this.status(part.counter, periodKey(part.period, now), part, now) };
      const periodOver = row.period_end !== null && row.period_end <= now;
      const period = periodOver ? periodKey(part.period, now) : row.period.slice(prefixOf(part.counter).length);
      this.charge(storedKey(part.counter, period), part.actual, periodOver ? periodEnd(part.period, now) : row.period_end);
      return { held: row.units, charged: part.actual, ...this.status(part.counter, period, part, now) };
    });
    return { ok: true, counters };
  }

  /**
   * Adds `units` to the current period's usage without a reservation; negative units credit
   * (a deleted file gives its bytes back). Usage never goes below zero.
   */
  adjust(units: number, terms: QuotaTerms): QuotaStatus {
    return this.adjustNow([{ counter: "", units, ...terms }])[0]!;
  }

  async adjustAll(parts: ReadonlyArray<CounterTerms & { units: number }>): Promise<QuotaStatus[]> {
    const moving = this.moveIn(parts);
    if (moving) await moving;
    return this.adjustNow(parts);
  }

  private adjustNow(parts: ReadonlyArray<CounterTerms & { units: number }>): QuotaStatus[] {
    const now = this.clock();
    assertCounters(parts);
    for (const part of parts) if (!Number.isSafeInteger(part.units)) throw new RangeError("units must be an integer");
    this.prepare(now);
    return parts.map((part) => {
      const period = periodKey(part.period, now);
      this.charge(storedKey(part.counter, period), part.units, periodEnd(part.period, now));
      return this.status(part.counter, period, part, now);
    });
  }

  /** The current period's numbers, changing nothing. */
  usage(terms: QuotaTerms): QuotaStatus {
    return this.usageNow([{ counter: "", ...terms }])[0]!;
  }

  async usageAll(parts: readonly CounterTerms[]): Promise<QuotaStatus[]> {
    const moving = this.moveIn(parts);
    if (moving) await moving;
    return this.usageNow(parts);
  }

  private usageNow(parts: readonly CounterTerms[]): QuotaStatus[] {
    const now = this.clock();
    assertCounters(parts);
    this.prepare(now);
    return parts.map((part) => this.status(part.counter, periodKey(part.period, now), part, now));
  }

  /**
   * Hands this object's own counter over to the object it moved to (see `CounterTerms.movedFrom`):
   * returns the current period's used and held units, then forgets everything, so a second drain
   * returns 0. Holds of calls still running against this object are handed over as used (their
   * worst case), so nothing is undercounted.
   */
  async drain(terms: QuotaTerms): Promise<number> {
    const tables = this.ctx.storage.sql.exec("select name from sqlite_master where type = 'table' and name = 'usage'").toArray();
    if (tables.length === 0) return 0;
    const now = this.clock();
    this.prepare(now);
    const { used, reserved } = this.status("", periodKey(terms.period, now), terms, now);
    await this.wipeOrSleepUntil(true, null);
    return used + reserved;
  }

  /**
   * Drains the objects that counters moved from, for counters with no row in their current period
   * yet; undefined (no await at all) when there are none, which is every call but the first of a
   * period. The row written even for 0 units is what marks the period as moved in.
   */
  private moveIn(parts: readonly CounterTerms[]): Promise<void> | undefined {
    assertCounters(parts);
    this.ensureSchema();
    const now = this.clock();
    const rowOf = (part: CounterTerms) => storedKey(part.counter, periodKey(part.period, now));
    const missing = (part: CounterTerms) => this.ctx.storage.sql.exec("select 1 from usage where period = ?", rowOf(part)).toArray().length === 0;
    const due = parts.filter((part) => part.movedFrom !== undefined && missing(part));
    if (due.length === 0) return undefined;
    let failure: unknown;
    // No other call runs until the rows are written: none can admit against a counter still moving.
    return this.ctx
      .blockConcurrencyWhile(async () => {
        try {
          for (const part of due.filter(missing)) {
            const from = this.env.QUOTA.get(this.env.QUOTA.idFromName(part.movedFrom!));
            const units = await from.drain({ limit: part.limit, period: part.period });
            const end = periodEnd(part.period, now);
            this.ctx.storage.sql.exec("insert or ignore into usage (period, used, expires_at) values (?, ?, ?)", rowOf(part), units, end);
            if (end !== null) this.wakeAt(end);
          }
        } catch (error) {
          // Thrown out of blockConcurrencyWhile it would reset the object; the caller gets it instead.
          failure = error;
        }
      })
      .then(() => {
        if (failure !== undefined) throw failure;
      });
  }

  /** Frees expired reservations and forgets ended periods; wipes the object when nothing is left. */
  override async alarm(): Promise<void> {
    const now = this.clock();
    this.prepare(now);
    const sql = this.ctx.storage.sql;
    const next = sql
      .exec<{ next: number | null }>(
        `select min(at) as next from (
           select expires_at as at from reservations
           union all select forget_at as at from lapsed_reservations
           union all select expires_at as at from usage where expires_at is not null)`,
      )
      .one().next;
    const rows = sql.exec<{ n: number }>("select (select count(*) from reservations) + (select count(*) from lapsed_reservations) + (select count(*) from usage) as n").one().n;
    await this.wipeOrSleepUntil(rows === 0, next);
  }

  /** Creates the tables on first use and drops what has expired, so every answer is current. */
  private prepare(now: number): void {
    this.ensureSchema();
    const sql = this.ctx.storage.sql;
    // Expired reservations stop holding units but stay settleable for a while (see settle).
    sql.exec(
      `insert or ignore into lapsed_reservations (id, period, period_end, units, forget_at)
       select id, period, period_end, units, expires_at + ? from reservations where expires_at <= ?`,
      LAPSED_SETTLE_MS,
      now,
    );
    sql.exec("delete from reservations where expires_at <= ?", now);
    sql.exec("delete from lapsed_reservations where forget_at <= ?", now);
    sql.exec("delete from usage where expires_at is not null and expires_at <= ?", now);
  }

  /** Removes a reservation (live or lapsed) and returns it; undefined when it is unknown. */
  private take(id: string): ReservationRow | undefined {
    const sql = this.ctx.storage.sql;
    for (const table of ["reservations", "lapsed_reservations"] as const) {
      const row = sql.exec<ReservationRow>(`select period, period_end, units from ${table} where id = ?`, id).toArray()[0];
      if (row) {
        sql.exec(`delete from ${table} where id = ?`, id);
        return row;
      }
    }
    return undefined;
  }

  private charge(period: string, units: number, expiresAt: number | null): void {
    if (units === 0) return;
    this.ctx.storage.sql.exec(
      `insert into usage (period, used, expires_at) values (?, max(0, ?), ?)
       on conflict (period) do update set used = max(0, used + ?)`,
      period,
      units,
      expiresAt,
      units,
    );
    if (expiresAt !== null) this.wakeAt(expiresAt);
  }

  /** `period` is the plain key (`2026-05-01`); rows of a named counter store it prefixed. */
  private status(counter: string, period: string, terms: QuotaTerms, now: number): QuotaStatus {
    const sql = this.ctx.storage.sql;
    const key = storedKey(counter, period);
    const used = sql.exec<{ used: number }>("select used from usage where period = ?", key).toArray()[0]?.used ?? 0;
    const reserved = sql.exec<{ reserved: number }>("select coalesce(sum(units), 0) as reserved from reservations where period = ?", key).one().reserved;
    const end = periodEnd(terms.period, now);
    return {
      period,
      limit: terms.limit,
      used,
      reserved,
      remaining: Math.max(0, terms.limit - used - reserved),
      reset: end === null ? null : Math.ceil((end - now) / 1000),
    };
  }

  /** Moves the alarm earlier when needed; alarm() itself sets the next one after it runs. */
  private wakeAt(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.setAlarmSoon(at);
  }
}
