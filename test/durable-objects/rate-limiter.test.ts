import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LimitRequest, RateLimiter } from "../../src/durable-objects/rate-limiter";

/** Storage is isolated per file, not per test: every test takes its own object. */
function freshLimiter(): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`unit-${crypto.randomUUID()}`));
}

/**
 * A whole hour, ten days ahead: alarms scheduled from it never fire by themselves during a test,
 * and it starts a slot of every window (units are counted in slots of 1/60 of the window).
 */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 10 * 86_400_000;
const login: LimitRequest = { policy: "login", limit: 5, window: 900, cost: 1 };

/** runInDurableObject typed for this class (its env type is the worker's Bindings, not the test Env). */
function inside<R>(stub: DurableObjectStub<RateLimiter>, fn: (limiter: RateLimiter, state: DurableObjectState) => R | Promise<R>): Promise<R> {
  return runInDurableObject(stub, (instance, state) => fn(instance as unknown as RateLimiter, state));
}

/**
 * Runs `fn` inside the object with its clock under the test's control: `at(ms)` sets the time the
 * next calls see. The clock stays set on the instance afterwards (for the alarm tests).
 */
function controlled<R>(stub: DurableObjectStub<RateLimiter>, fn: (limiter: RateLimiter, at: (ms: number) => RateLimiter, state: DurableObjectState) => R | Promise<R>): Promise<R> {
  return inside(stub, (limiter, state) => {
    let now = T0;
    limiter.clock = () => now;
    const at = (ms: number) => {
      now = ms;
      return limiter;
    };
    return fn(limiter, at, state);
  });
}

function rowCount(state: DurableObjectState): number {
  return state.storage.sql.exec<{ n: number }>("select count(*) as n from hits").one().n;
}

describe("RateLimiter (sliding window in slots of 1/60 of the window)", () => {
  it("admits exactly `limit` requests in a window and reports remaining, reset and retry", async () => {
    await controlled(freshLimiter(), (_, at) => {
      for (let i = 1; i <= 5; i++) {
        const decision = at(T0 + i * 1000).check([login]);
        expect(decision.allowed).toBe(true);
        // A 900 s window counts in 15 s slots named by their end: every unit here is in T0+15s.
        expect(decision.states[0]).toMatchObject({ remaining: 5 - i, reset: 915 - i, countedAt: T0 + 15_000 });
      }
      const denied = at(T0 + 10_000).check([login]);
      expect(denied.allowed).toBe(false);
      // The slot leaves the window at T0+915s (never before its units would): 905 s from T0+10s.
      expect(denied.states[0]).toMatchObject({ allowed: false, remaining: 0, reset: 905, retryAfter: 905, countedAt: null });
    });
  });

  it("rolls over: a unit returns exactly when it leaves the window, not before", async () => {
    await controlled(freshLimiter(), (_, at) => {
      const policy = { policy: "p", limit: 2, window: 60, cost: 1 };
      expect(at(T0).check([policy]).allowed).toBe(true);
      expect(at(T0 + 30_000).check([policy]).allowed).toBe(true);
      expect(at(T0 + 59_999).check([policy]).allowed).toBe(false);
      // At T0+60s the first unit is exactly one window old and no longer counts.
      const rolled = at(T0 + 60_000).check([policy]);
      expect(rolled.allowed).toBe(true);
      expect(rolled.states[0]).toMatchObject({ remaining: 0, reset: 30 });
      expect(at(T0 + 89_999).check([policy]).allowed).toBe(false);
      expect(at(T0 + 90_000).check([policy]).allowed).toBe(true);
    });
  });

  it("is a sliding window: no double burst at a fixed-window boundary", async () => {
    await controlled(freshLimiter(), (_, at) => {
      const policy = { policy: "p", limit: 10, window: 60, cost: 1 };
      for (let i = 0; i < 10; i++) expect(at(T0 + 59_000).check([policy]).allowed).toBe(true);
      // A fixed window starting at T0+60s would admit another 10 here.
      expect(at(T0 + 61_000).check([policy]).allowed).toBe(false);
      expect(at(T0 + 119_000).check([policy]).allowed).toBe(true);
    });
  });

  it("checks several policies at once and counts nothing unless all admit", async () => {
    await controlled(freshLimiter(), (_, at, state) => {
      const small = { policy: "small", limit: 1, window: 60, cost: 1 };
      const big = { policy: "big", limit: 100, window: 60, cost: 1 };
      expect(at(T0).check([small, big]).allowed).toBe(true);
      const denied = at(T0 + 1).check([small, big]);
      expect(denied.allowed).toBe(false);
      expect(denied.states.map((entry) => [entry.policy, entry.allowed, entry.remaining])).toEqual([
        ["small", false, 0],
        ["big", true, 99],
      ]);
      // The rejected request was not counted in `big`.
      expect(at(T0 + 2).peek([big])[0]?.remaining).toBe(99);
      expect(rowCount(state)).toBe(2);
    });
  });

  it("honours costs: a cost above what is left is refused, a cost above the limit never fits", async () => {
    await controlled(freshLimiter(), (_, at) => {
      const bytes = { policy: "bytes", limit: 10, window: 60, cost: 7 };
      expect(at(T0).check([bytes]).states[0]?.remaining).toBe(3);
      const denied = at(T0 + 1000).check([{ ...bytes, cost: 4 }]);
      expect(denied.states[0]).toMatchObject({ allowed: false, remaining: 3, retryAfter: 59 });
      expect(at(T0 + 1000).check([{ ...bytes, cost: 3 }]).allowed).toBe(true);
      expect(at(T0 + 120_000).check([{ ...bytes, cost: 11 }]).states[0]).toMatchObject({ allowed: false, retryAfter: 60 });
    });
  });

  it("refunds exactly what was counted and resets a policy", async () => {
    await controlled(freshLimiter(), (_, at) => {
      const first = at(T0).check([login]);
      at(T0 + 5).check([login]);
      const [refunded] = at(T0 + 10).refund([{ ...login, countedAt: first.states[0]!.countedAt! }]);
      // What is left was counted at T0+5ms, in the slot ending at T0+15s.
      expect(refunded).toMatchObject({ remaining: 4, reset: 915 });
      // Refunding again finds nothing left to take back.
      expect(at(T0 + 10).refund([{ ...login, countedAt: T0 }])[0]?.remaining).toBe(4);
      expect(at(T0 + 20).reset([login])[0]).toMatchObject({ remaining: 5, reset: null });
    });
  });

  it("keeps at most one row per slot, whatever the traffic", async () => {
    await controlled(freshLimiter(), (_, at, state) => {
      const policy = { policy: "busy", limit: 1_000_000, window: 60, cost: 1 };
      // 3,000 requests spread over one window: a log would hold 3,000 rows.
      for (let i = 0; i < 3_000; i++) expect(at(T0 + i * 20).check([policy]).allowed).toBe(true);
      expect(rowCount(state)).toBeLessThanOrEqual(61);
      expect(at(T0 + 59_980).peek([policy])[0]?.remaining).toBe(1_000_000 - 3_000);
    });
  });

  it("grants a lease: up to `upTo` units at once, never beyond the limit", async () => {
    await controlled(freshLimiter(), (_, at) => {
      const policy = { policy: "leased", limit: 25, window: 60, cost: 1, upTo: 10 };
      expect(at(T0).check([policy]).states[0]).toMatchObject({ allowed: true, granted: 10, remaining: 15 });
      expect(at(T0).check([policy]).states[0]).toMatchObject({ granted: 10, remaining: 5 });
      expect(at(T0).check([policy]).states[0]).toMatchObject({ granted: 5, remaining: 0 });
      expect(at(T0).check([policy]).states[0]).toMatchObject({ allowed: false, retryAfter: 60 });
    });
  });

  it("admits exactly the limit from 200 concurrent RPCs", async () => {
    const stub = freshLimiter();
    const policy = { policy: "burst", limit: 50, window: 3600, cost: 1 };
    const decisions = await Promise.all(Array.from({ length: 200 }, () => stub.check([policy])));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(50);
    expect(decisions.filter((decision) => !decision.allowed).every((decision) => decision.states[0]?.remaining === 0)).toBe(true);
  });

  it("keeps its counts across eviction", async () => {
    const id = env.RATE_LIMITER.idFromName(`unit-${crypto.randomUUID()}`);
    const policy = { policy: "persist", limit: 3, window: 3600, cost: 1 };
    await env.RATE_LIMITER.get(id).check([policy]);
    await env.RATE_LIMITER.get(id).check([policy]);
    await abortAllDurableObjects();
    // A new instance, reloaded from storage.
    const stub = env.RATE_LIMITER.get(id);
    const [state] = await stub.peek([policy]);
    expect(state?.remaining).toBe(1);
    expect((await stub.check([policy])).allowed).toBe(true);
    expect((await stub.check([policy])).allowed).toBe(false);
  });

  it("expires idle keys: once every window has passed the alarm deletes all storage", async () => {
    const stub = freshLimiter();
    const policy = { policy: "idle", limit: 5, window: 60, cost: 1 };
    await controlled(stub, async (_, at, state) => {
      at(T0).check([policy]);
      at(T0 + 1000).check([policy]);
      expect(rowCount(state)).toBe(2);
      // One alarm, at the end of the first counted window; later counts do not move it.
      expect(await state.storage.getAlarm()).toBe(T0 + 60_000);
      at(T0 + 61_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await inside(stub, async (limiter, state) => {
      const tables = state.storage.sql.exec("select name from sqlite_master where name = 'hits'").toArray();
      expect(tables).toHaveLength(0);
      expect(await state.storage.getAlarm()).toBeNull();
      // The wiped object starts again from scratch.
      expect(limiter.check([policy]).states[0]?.remaining).toBe(4);
    });
  });

  it("keeps live rows at the alarm and sleeps until they expire", async () => {
    const stub = freshLimiter();
    await controlled(stub, (_, at) => {
      at(T0).check([{ policy: "short", limit: 5, window: 60, cost: 1 }]);
      at(T0 + 30_000).check([{ policy: "long", limit: 5, window: 3600, cost: 1 }]);
      at(T0 + 90_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await inside(stub, async (limiter, state) => {
      expect(state.storage.sql.exec<{ policy: string }>("select policy from hits").toArray().map((row) => row.policy)).toEqual(["long"]);
      // Counted at T0+30s in the 60 s slot ending at T0+60s.
      expect(await state.storage.getAlarm()).toBe(T0 + 60_000 + 3_600_000);
      expect(limiter.peek([{ policy: "long", limit: 5, window: 3600, cost: 1 }])[0]?.remaining).toBe(4);
    });
  });

  it("stores no raw key: only policy names, times and counts", async () => {
    const stub = freshLimiter();
    await stub.check([login]);
    await inside(stub, (_, state) => {
      expect(state.storage.sql.exec("select * from hits").columnNames).toEqual(["policy", "at", "units", "expires_at"]);
    });
  });

  it("answers the readiness ping", async () => {
    expect(await freshLimiter().ping()).toBe("pong");
  });
});
