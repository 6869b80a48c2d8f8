import { describe, expect, it } from "vitest";
import { noteBlock, recentBlocksCached, RISK_CACHE_MS } from "../../src/modules/ai/ai.risk";

/** A D1 stand-in answering the blocked-screenings count with `rows`, counting the queries. */
function countingDb(rows: { n: number }) {
  const queries: unknown[][] = [];
  const db = {
    prepare: () => ({
      bind: (...values: unknown[]) => ({
        first: async () => {
          queries.push(values);
          return { n: rows.n };
        },
      }),
    }),
  } as unknown as D1Database;
  return { db, queries };
}

describe("AI risk input: blocked screenings counted per isolate for a bounded time", () => {
  it("reads D1 once per RISK_CACHE_MS per user; its own blocks count at once; others' within the bound", async () => {
    const user = `user-${crypto.randomUUID()}`;
    const rows = { n: 2 };
    const { db, queries } = countingDb(rows);
    const t0 = 1_000_000_000_000;
    expect(await recentBlocksCached(db, user, t0)).toBe(2);
    // Another isolate records a block: not seen before the bound.
    rows.n = 3;
    expect(await recentBlocksCached(db, user, t0 + RISK_CACHE_MS - 1)).toBe(2);
    // This isolate's own block counts on its next request.
    noteBlock(user);
    expect(await recentBlocksCached(db, user, t0 + 1)).toBe(3);
    expect(queries).toHaveLength(1);
    rows.n = 4;
    expect(await recentBlocksCached(db, user, t0 + RISK_CACHE_MS)).toBe(4);
    expect(queries).toHaveLength(2);
    // The 24-hour window is the query's: it starts a day before the moment of the read.
    expect(queries[1]).toEqual([user, t0 + RISK_CACHE_MS - 86_400_000]);
  });

  it("keeps users apart and reads again when the clock goes backwards", async () => {
    const { db, queries } = countingDb({ n: 1 });
    const [a, b] = [`a-${crypto.randomUUID()}`, `b-${crypto.randomUUID()}`];
    await recentBlocksCached(db, a, 5_000);
    await recentBlocksCached(db, b, 5_000);
    await recentBlocksCached(db, a, 4_000);
    expect(queries.map(([userId]) => userId)).toEqual([a, b, a]);
  });
});
