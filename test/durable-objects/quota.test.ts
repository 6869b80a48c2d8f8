import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LAPSED_SETTLE_MS, periodEnd, periodKey, type CounterTerms, type Quota, type QuotaTerms } from "../../src/durable-objects/quota";
import { partitionName } from "../../src/lib/rate-limit/keys";
import { quotaFor, quotaSetFor } from "../../src/lib/rate-limit/quota";

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

describe("Quota: several counters in one object", () => {
  const tokens: CounterTerms = { counter: "", limit: 100, period: "day" };
  const cost: CounterTerms = { counter: "cost", limit: 10, period: "month" };

  it("holds every counter or none: a counter that does not fit holds nothing on the others", async () => {
    await controlled(freshQuota(), async (quota, at) => {
      const refused = await at(T0).reserveAll([{ ...tokens, units: 50 }, { ...cost, units: 11 }]);
      expect(refused).toMatchObject({ ok: false, counters: [{ fits: true, remaining: 100 }, { fits: false, remaining: 10, period: periodKey("month", T0) }] });
      expect(await quota.usageAll([tokens, cost])).toMatchObject([{ reserved: 0 }, { reserved: 0 }]);
      const held = await at(T0).reserveAll([{ ...tokens, units: 50 }, { ...cost, units: 10 }]);
      expect(held).toMatchObject({ ok: true, counters: [{ reserved: 50, remaining: 50 }, { reserved: 10, remaining: 0 }] });
    });
  });

  it("settles and releases every counter of a reservation once", async () => {
    await controlled(freshQuota(), async (quota, at) => {
      const held = await at(T0).reserveAll([{ ...tokens, units: 50 }, { ...cost, units: 10 }]);
      if (!held.ok) throw new Error("expected a reservation");
      expect(await at(T0).settleAll(held.reservationId, [{ ...tokens, actual: 30 }, { ...cost, actual: 4 }])).toMatchObject({
        ok: true,
        counters: [{ held: 50, charged: 30, used: 30, reserved: 0 }, { held: 10, charged: 4, used: 4, reserved: 0, remaining: 6 }],
      });
      expect(await at(T0).settleAll(held.reservationId, [{ ...tokens, actual: 30 }, { ...cost, actual: 4 }])).toEqual({ ok: false, reason: "unknown_reservation" });
      const released = await at(T0).reserveAll([{ ...tokens, units: 70 }, { ...cost, units: 6 }]);
      if (!released.ok) throw new Error("expected a reservation");
      expect((await at(T0).settleAll(released.reservationId, [{ ...tokens, actual: 0 }, { ...cost, actual: 0 }])).ok).toBe(true);
      expect(await quota.usageAll([tokens, cost])).toMatchObject([{ used: 30, reserved: 0, remaining: 70 }, { used: 4, reserved: 0, remaining: 6 }]);
    });
  });

  it("keeps each counter's own period: the day counter resets at midnight, the month counter does not", async () => {
    await controlled(freshQuota(), async (quota, at) => {
      const midnight = periodEnd("day", T0)!;
      const held = await at(midnight - 1_000).reserveAll([{ ...tokens, units: 60 }, { ...cost, units: 5 }], 600);
      if (!held.ok) throw new Error("expected a reservation");
      // Settled after midnight: tokens go to the new day, cost stays in the month.
      const settled = await at(midnight + 1_000).settleAll(held.reservationId, [{ ...tokens, actual: 40 }, { ...cost, actual: 3 }]);
      expect(settled).toMatchObject({ ok: true, counters: [{ used: 40, period: periodKey("day", midnight) }, { used: 3, period: periodKey("month", T0) }] });
      const nextMidnight = periodEnd("day", midnight)!;
      expect(await at(nextMidnight).usageAll([tokens, cost])).toMatchObject([{ used: 0, remaining: 100 }, { used: 3, remaining: 7 }]);
    });
  });

  it("the object's own counter is the one a single-counter client reaches (rows from before several counters still count)", async () => {
    await controlled(freshQuota(), async (quota, at) => {
      const old = at(T0).reserve(20, tokens);
      if (!old.ok) throw new Error("expected a reservation");
      at(T0).settle(old.reservationId, 20, tokens);
      at(T0).reserve(30, tokens);
      expect(await at(T0).usageAll([tokens, cost])).toMatchObject([{ used: 20, reserved: 30, remaining: 50 }, { used: 0, reserved: 0 }]);
      expect(await at(T0).reserveAll([{ ...tokens, units: 51 }, { ...cost, units: 1 }])).toMatchObject({ ok: false, counters: [{ fits: false }, { fits: true }] });
      await expect(quota.reserveAll([{ ...tokens, units: 1 }, { ...tokens, units: 1 }])).rejects.toThrow(/named twice/);
      await expect(quota.usageAll([{ ...cost, counter: "a/b" }])).rejects.toThrow(/invalid counter/);
    });
  });

  it("lets exactly one of 50 parallel reservations through when only the second counter is short", async () => {
    const stub = freshQuota();
    const results = await Promise.all(Array.from({ length: 50 }, () => stub.reserveAll([{ ...tokens, units: 1 }, { ...cost, units: 10 }])));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(await stub.usageAll([tokens, cost])).toMatchObject([{ reserved: 1, remaining: 99 }, { reserved: 10, remaining: 0 }]);
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

describe("quotaSetFor (typed client)", () => {
  it("reaches the object quotaFor reaches under the same name, with named counters beside its own", async () => {
    const subject = `user-${crypto.randomUUID()}`;
    const single = quotaFor(env.QUOTA, { name: "ai_tokens", limit: 1_000, period: "day" }, subject);
    await single.adjust(100);
    const set = quotaSetFor(env.QUOTA, "ai_tokens", { tokens: { counter: "", limit: 1_000, period: "day" }, cost: { counter: "cost", limit: 50, period: "month" } }, subject);
    const hold = await set.reserve({ tokens: 200, cost: 50 });
    if (!hold.ok) throw new Error("expected a reservation");
    expect(hold.counters).toMatchObject({ tokens: { used: 100, reserved: 200 }, cost: { reserved: 50, remaining: 0 } });
    const refused = await set.reserve({ tokens: 1, cost: 1 });
    expect(refused).toMatchObject({ ok: false, counters: { tokens: { fits: true }, cost: { fits: false } } });
    expect(await set.settle(hold.reservationId, { tokens: 150, cost: 20 })).toBe(true);
    expect(await set.release(hold.reservationId)).toBe(false);
    expect(await set.adjust({ tokens: 10, cost: 5 })).toMatchObject({ tokens: { used: 260 }, cost: { used: 25 } });
    expect(await single.usage()).toMatchObject({ used: 260 });
    await expect(set.reserve({ tokens: -1, cost: 0 })).rejects.toThrow(/non-negative integer/);
  });
});

describe("Quota: a counter that moved in from another object", () => {
  const setWithMovedCost = (subject: string, costLimit: number) =>
    quotaSetFor(
      env.QUOTA,
      "moved_into",
      { tokens: { counter: "", limit: 1_000, period: "day" }, cost: { counter: "cost", limit: costLimit, period: "month", movedFrom: "moved_from" } },
      subject,
    );

  it("takes over the old object's period once (used, and held as used), and empties it", async () => {
    const subject = `user-${crypto.randomUUID()}`;
    const old = quotaFor(env.QUOTA, { name: "moved_from", limit: 100, period: "month" }, subject);
    await old.adjust(7);
    // A call still running against the old object when the counter moves: counted at its worst case.
    const running = await old.reserve(3);
    if (!running.ok) throw new Error("expected a reservation");
    const set = setWithMovedCost(subject, 20);
    expect(await set.usage()).toMatchObject({ cost: { used: 10, reserved: 0, remaining: 10 }, tokens: { used: 0 } });
    expect(await old.usage()).toMatchObject({ used: 0, reserved: 0 });
    expect(await old.settle(running.reservationId, 3)).toEqual({ ok: false, reason: "unknown_reservation" });
    // Once per period: what the old object counts afterwards is not taken again.
    await old.adjust(5);
    expect(await set.adjust({ tokens: 0, cost: 1 })).toMatchObject({ cost: { used: 11 } });
  });

  it("admits exactly when the first calls of the period race the move (none admits before it is done)", async () => {
    const subject = `user-${crypto.randomUUID()}`;
    await quotaFor(env.QUOTA, { name: "moved_from", limit: 100, period: "month" }, subject).adjust(15);
    const set = setWithMovedCost(subject, 20);
    const results = await Promise.all(Array.from({ length: 50 }, () => set.reserve({ tokens: 1, cost: 1 })));
    expect(results.filter((result) => result.ok)).toHaveLength(5);
    expect(await set.usage()).toMatchObject({ cost: { used: 15, reserved: 5, remaining: 0 } });
  });

  it("finds nothing to take from an old object that never existed, and leaves it empty", async () => {
    const subject = `user-${crypto.randomUUID()}`;
    const set = setWithMovedCost(subject, 20);
    expect(await set.reserve({ tokens: 1, cost: 2 })).toMatchObject({ ok: true, counters: { cost: { used: 0, reserved: 2 } } });
    const oldName = await partitionName("moved_from", subject, "quota");
    await runInDurableObject(env.QUOTA.get(env.QUOTA.idFromName(oldName)), (_, state) => {
      expect(state.storage.sql.exec("select name from sqlite_master where type = 'table'").toArray()).toHaveLength(0);
    });
  });
});
