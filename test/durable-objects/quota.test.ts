import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LAPSED_SETTLE_MS, periodEnd, periodKey, type Quota, type QuotaTerms } from "../../src/durable-objects/quota";
import { quotaFor } from "../../src/lib/rate-limit/quota";

/** Storage is isolated per file, not per test: every test takes its own object. */
function freshQuota(): DurableObjectStub<Quota> {
  return env.QUOTA.get(env.QUOTA.idFromName(`unit-${crypto.randomUUID()}`));
}

/** Noon UTC, ten days ahead: alarms scheduled from it never fire by themselves during a test. */
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 10 * 86_400_000 + 12 * 3_600_000;
const daily: QuotaTerms = { limit: 100, period: "day" };

function controlled<R>(stub: DurableObjectStub<Quota>, fn: (quota: Quota, at: (ms: number) => Quota, state: DurableObjectState) => R | Promise<R>): Promise<R> {
  return runInDurableObject(stub, (instance, state) => {
    const quota = instance as unknown as Quota;
    let now = T0;
    quota.clock = () => now;
    const at = (ms: number) => {
      now = ms;
      return quota;
    };
    return fn(quota, at, state);
  });
}

function tableRows(state: DurableObjectState, table: "usage" | "reservations"): number {
  return state.storage.sql.exec<{ n: number }>(`select count(*) as n from ${table}`).one().n;
}

describe("Quota: reserve / settle", () => {
  it("reserves within the limit and refuses what does not fit", async () => {
    await controlled(freshQuota(), (_, at) => {
      const first = at(T0).reserve(60, daily);
      expect(first).toMatchObject({ ok: true, used: 0, reserved: 60, remaining: 40, period: periodKey("day", T0), reset: 12 * 3600 });
      expect(at(T0).reserve(41, daily)).toMatchObject({ ok: false, remaining: 40, reserved: 60 });
      expect(at(T0).reserve(40, daily)).toMatchObject({ ok: true, remaining: 0 });
    });
  });

  it("settles: less than reserved refunds the difference, more charges it", async () => {
    await controlled(freshQuota(), (_, at) => {
      const big = at(T0).reserve(50, daily);
      if (!big.ok) throw new Error("expected a reservation");
      const settled = at(T0 + 1000).settle(big.reservationId, 20, daily);
      expect(settled).toMatchObject({ ok: true, held: 50, charged: 20, used: 20, reserved: 0, remaining: 80 });

      const small = at(T0 + 2000).reserve(10, daily);
      if (!small.ok) throw new Error("expected a reservation");
      expect(at(T0 + 3000).settle(small.reservationId, 90, daily)).toMatchObject({ ok: true, used: 110, remaining: 0 });
      // Over budget now: nothing more fits until the period resets.
      expect(at(T0 + 4000).reserve(1, daily)).toMatchObject({ ok: false, remaining: 0 });
    });
  });

  it("settles a reservation once; release charges nothing", async () => {
    await controlled(freshQuota(), (_, at) => {
      const hold = at(T0).reserve(30, daily);
      if (!hold.ok) throw new Error("expected a reservation");
      expect(at(T0).settle(hold.reservationId, 0, daily)).toMatchObject({ ok: true, used: 0, remaining: 100 });
      expect(at(T0).settle(hold.reservationId, 30, daily)).toEqual({ ok: false, reason: "unknown_reservation" });
    });
  });

  it("frees reservations that are never settled once they expire", async () => {
    await controlled(freshQuota(), (_, at) => {
      const hold = at(T0).reserve(100, daily, 60);
      if (!hold.ok) throw new Error("expected a reservation");
      expect(at(T0 + 59_999).reserve(1, daily).ok).toBe(false);
      expect(at(T0 + 60_000).usage(daily)).toMatchObject({ reserved: 0, remaining: 100 });
    });
  });

  it("still charges a reservation settled after it expired (slow work must not leak the budget), once", async () => {
    await controlled(freshQuota(), (_, at) => {
      const hold = at(T0).reserve(100, daily, 60);
      if (!hold.ok) throw new Error("expected a reservation");
      expect(at(T0 + 120_000).settle(hold.reservationId, 80, daily)).toMatchObject({ ok: true, held: 100, charged: 80, used: 80, remaining: 20 });
      expect(at(T0 + 120_000).settle(hold.reservationId, 80, daily)).toEqual({ ok: false, reason: "unknown_reservation" });
      const late = at(T0 + 120_000).reserve(10, daily, 60);
      if (!late.ok) throw new Error("expected a reservation");
      // Past the settle window the reservation is forgotten.
      expect(at(T0 + 180_000 + LAPSED_SETTLE_MS).settle(late.reservationId, 10, daily)).toEqual({ ok: false, reason: "unknown_reservation" });
    });
  });

  it("charges work settled after its period ended to the current period instead of dropping it", async () => {
    await controlled(freshQuota(), (_, at) => {
      const midnight = periodEnd("day", T0)!;
      const hold = at(midnight - 1_000).reserve(50, daily, 600);
      if (!hold.ok) throw new Error("expected a reservation");
      expect(at(midnight + 1_000).settle(hold.reservationId, 40, daily)).toMatchObject({ ok: true, charged: 40, used: 40, period: periodKey("day", midnight) });
      expect(at(midnight + 2_000).usage(daily)).toMatchObject({ used: 40, remaining: 60 });
    });
  });

  it("resets at UTC midnight for day budgets", async () => {
    await controlled(freshQuota(), (_, at) => {
      const hold = at(T0).reserve(100, daily);
      if (!hold.ok) throw new Error("expected a reservation");
      at(T0).settle(hold.reservationId, 100, daily);
      const midnight = periodEnd("day", T0)!;
      expect(at(midnight - 1).usage(daily)).toMatchObject({ used: 100, remaining: 0, reset: 1 });
      expect(at(midnight).usage(daily)).toMatchObject({ used: 0, remaining: 100, period: periodKey("day", midnight) });
    });
  });

  it("keeps a running balance for total budgets, credited by negative adjustments", async () => {
    const bytes: QuotaTerms = { limit: 1_000, period: "total" };
    await controlled(freshQuota(), (_, at) => {
      const upload = at(T0).reserve(600, bytes);
      if (!upload.ok) throw new Error("expected a reservation");
      expect(at(T0).settle(upload.reservationId, 600, bytes)).toMatchObject({ used: 600, remaining: 400, reset: null, period: "total" });
      expect(at(T0 + 400 * 86_400_000).usage(bytes)).toMatchObject({ used: 600 });
      expect(at(T0).adjust(-250, bytes)).toMatchObject({ used: 350, remaining: 650 });
      expect(at(T0).adjust(-10_000, bytes)).toMatchObject({ used: 0, remaining: 1_000 });
    });
  });

  it("lets exactly one of 50 parallel reserve(1) through when one unit is left", async () => {
    const stub = freshQuota();
    const hold = await stub.reserve(99, daily);
    expect(hold.ok).toBe(true);
    const results = await Promise.all(Array.from({ length: 50 }, () => stub.reserve(1, daily)));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(await stub.usage(daily)).toMatchObject({ reserved: 100, remaining: 0 });
  });

  it("refuses negative or fractional units", async () => {
    await controlled(freshQuota(), (quota) => {
      expect(() => quota.reserve(-1, daily)).toThrow(/non-negative integer/);
      expect(() => quota.reserve(1.5, daily)).toThrow(/non-negative integer/);
      expect(() => quota.adjust(0.5, daily)).toThrow(/integer/);
    });
    const client = quotaFor(env.QUOTA, { name: "ai_tokens", limit: 10, period: "day" }, "someone");
    await expect(client.reserve(-1)).rejects.toThrow(/non-negative integer/);
  });

  it("forgets ended periods and expired reservations at the alarm, then deletes everything", async () => {
    const stub = freshQuota();
    await controlled(stub, async (_, at, state) => {
      const hold = at(T0).reserve(10, daily, 60);
      if (!hold.ok) throw new Error("expected a reservation");
      at(T0).settle(hold.reservationId, 10, daily);
      at(T0).reserve(5, daily, 60);
      expect([tableRows(state, "usage"), tableRows(state, "reservations")]).toEqual([1, 1]);
      expect(await state.storage.getAlarm()).toBe(T0 + 60_000);
      at(T0 + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await controlled(stub, async (_, at, state) => {
      // The reservation expired; the day's usage stays until midnight, when the next alarm is due.
      expect([tableRows(state, "usage"), tableRows(state, "reservations")]).toEqual([1, 0]);
      expect(await state.storage.getAlarm()).toBe(periodEnd("day", T0));
      at(periodEnd("day", T0)!);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await controlled(stub, async (_, at, state) => {
      // The expired reservation stays settleable for LAPSED_SETTLE_MS, then goes too.
      expect(await state.storage.getAlarm()).toBe(T0 + 60_000 + LAPSED_SETTLE_MS);
      at(T0 + 60_000 + LAPSED_SETTLE_MS);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_, state) => {
      expect(state.storage.sql.exec("select name from sqlite_master where type = 'table'").toArray()).toHaveLength(0);
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });
});

describe("quotaFor (typed client)", () => {
  it("addresses one object per budget and subject, by a hash", async () => {
    const subject = `user-${crypto.randomUUID()}`;
    const tokens = quotaFor(env.QUOTA, { name: "ai_tokens", limit: 1_000, period: "day" }, subject);
    const hold = await tokens.reserve(400);
    if (!hold.ok) throw new Error("expected a reservation");
    expect(await tokens.settle(hold.reservationId, 250)).toMatchObject({ ok: true, used: 250, remaining: 750 });
    // The same subject and budget reaches the same object; another budget does not.
    expect(await quotaFor(env.QUOTA, { name: "ai_tokens", limit: 1_000, period: "day" }, subject).usage()).toMatchObject({ used: 250 });
    expect(await quotaFor(env.QUOTA, { name: "file_bytes", limit: 1_000, period: "total" }, subject).usage()).toMatchObject({ used: 0 });
    const second = await tokens.reserve(100);
    if (!second.ok) throw new Error("expected a reservation");
    expect(await tokens.release(second.reservationId)).toMatchObject({ ok: true, charged: 0, used: 250 });
    expect(await tokens.adjust(50)).toMatchObject({ used: 300 });
  });
});
