import { describe, expect, it } from "vitest";
import { type AiBudgets, reserve } from "../../src/modules/ai/ai.budget";

/*
 * The gateway settles a call's budget after the response (waitUntil). A settlement lost in
 * transit would leave the hold to expire and the call unpaid, so the hold retries it; settling a
 * reservation twice changes nothing in the Quota object, which makes the retry safe.
 */
function fakeBudgets(failures: number) {
  const settles: Array<{ reservationId: string; actual: Record<string, number> }> = [];
  let failuresLeft = failures;
  const status = { used: 0, reserved: 0, limit: 1_000, remaining: 1_000, resetAt: 0 };
  const counters = {
    reserve: async () => ({ ok: true as const, reservationId: "r1", counters: { tokens: status, cost: status } }),
    settle: async (reservationId: string, actual: Record<string, number>) => {
      settles.push({ reservationId, actual });
      if (failuresLeft-- > 0) throw new Error("network connection lost");
      return true;
    },
    release: async () => true,
  };
  const budgets = { counters, policy: { dailyTokens: 1_000, monthlyCostMicroUsd: null, role: "user" } } as unknown as AiBudgets;
  return { budgets, settles };
}

describe("AI budget hold: settling after the response", () => {
  it("repeats a settlement that failed in transit", async () => {
    const { budgets, settles } = fakeBudgets(1);
    const hold = await reserve(budgets, 100, 10);
    await hold.settle(42, 7);
    expect(settles).toEqual([
      { reservationId: "r1", actual: { tokens: 42, cost: 7 } },
      { reservationId: "r1", actual: { tokens: 42, cost: 7 } },
    ]);
  });

  it("gives up after three attempts and says so (the hold then expires)", async () => {
    const { budgets, settles } = fakeBudgets(5);
    const hold = await reserve(budgets, 100, 10);
    await expect(hold.settle(42, 7)).rejects.toThrow("network connection lost");
    expect(settles).toHaveLength(3);
  });

  it("settles once however often it is asked", async () => {
    const { budgets, settles } = fakeBudgets(0);
    const hold = await reserve(budgets, 100, 10);
    await hold.settle(42, 7);
    await hold.settle(50, 9);
    await hold.release();
    expect(settles).toHaveLength(1);
  });
});
