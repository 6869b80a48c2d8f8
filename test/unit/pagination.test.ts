import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, PaginationQuerySchema, toPage } from "../../src/lib/pagination";
import { ProblemError } from "../../src/lib/problem";

const Key = z.tuple([z.number().int(), z.string()]);

describe("cursors", () => {
  it("round-trip a sort key through an opaque base64url string", () => {
    const cursor = encodeCursor([1718000000000, "ü-id"]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, Key)).toEqual([1718000000000, "ü-id"]);
    expect(decodeCursor(undefined, Key)).toBeUndefined();
  });

  it("turn garbage and cursors of another list into a 422 on query.cursor", () => {
    for (const cursor of ["%%%", "bm90LWpzb24", encodeCursor(["name-only"]), encodeCursor([1.5, "x"]), "_w"]) {
      try {
        decodeCursor(cursor, Key);
        expect.unreachable(cursor);
      } catch (error) {
        expect(error).toBeInstanceOf(ProblemError);
        expect((error as ProblemError).status).toBe(422);
        expect((error as ProblemError).init.errors).toEqual([{ path: "query.cursor", message: "is not a cursor of this list" }]);
      }
    }
  });
});

describe("toPage", () => {
  const rows = [1, 2, 3].map((n) => ({ at: n, id: `id-${n}` }));
  const key = (row: { at: number; id: string }) => [row.at, row.id] as const;

  it("uses the extra row only to know that another page exists", () => {
    const page = toPage(rows, 2, key, (row) => row.id);
    expect(page.items).toEqual(["id-1", "id-2"]);
    expect(decodeCursor(page.next_cursor!, Key)).toEqual([2, "id-2"]);
  });

  it("ends with a null cursor", () => {
    expect(toPage(rows, 3, key, (row) => row.id)).toEqual({ items: ["id-1", "id-2", "id-3"], next_cursor: null });
    expect(toPage([], 3, key, (row) => row.id)).toEqual({ items: [], next_cursor: null });
  });
});

describe("PaginationQuerySchema", () => {
  it("defaults the limit and bounds it to 1..100", () => {
    expect(PaginationQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(PaginationQuerySchema.parse({ limit: "100" }).limit).toBe(100);
    for (const limit of ["0", "101", "1.5", "x"]) expect(PaginationQuerySchema.safeParse({ limit }).success, limit).toBe(false);
  });
});
