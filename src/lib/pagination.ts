import { z } from "@hono/zod-openapi";
import { ProblemError } from "./problem";

/**
 * Cursor pagination, one shape for every list: `?limit=1..100&cursor=<opaque>` in, `{ items,
 * next_cursor }` out. A cursor is the sort key of the last item returned (base64url JSON), so a
 * page never skips or repeats rows when rows are added meanwhile, and no offset scan is needed.
 * Cursors are opaque to clients but not secret: filters are re-applied from the query on every
 * page, so a forged cursor can only move the starting point, never widen what a caller may read.
 */

export const PAGE_LIMIT = { min: 1, max: 100, default: 50 } as const;
const CURSOR_MAX_LENGTH = 512;

export const PaginationQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(PAGE_LIMIT.min)
    .max(PAGE_LIMIT.max)
    .default(PAGE_LIMIT.default)
    .openapi({ param: { name: "limit", in: "query" }, description: "Items per page (1-100)", example: 50 }),
  cursor: z
    .string()
    .min(1)
    .max(CURSOR_MAX_LENGTH)
    .regex(/^[A-Za-z0-9_-]+$/, "is not a valid cursor")
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: "`next_cursor` of the previous page" }),
});

export type PaginationQuery = z.infer<typeof PaginationQuerySchema>;

/** The response shape of a list: a page of `item` and the cursor of the next page (null on the last). */
export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item).max(PAGE_LIMIT.max),
      next_cursor: z.string().max(CURSOR_MAX_LENGTH).nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last page" }),
    })
    .openapi(name);
}

export type CursorKey = readonly (string | number)[];

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(encoded: string): string {
  const binary = atob(encoded.replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}

/**
 * Encodes a sort key as an opaque cursor.
 *
 * @example encodeCursor([1718000000000, "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47"])
 */
export function encodeCursor(key: CursorKey): string {
  return toBase64Url(JSON.stringify(key));
}

/**
 * Decodes a cursor into the sort key `schema` describes; anything else (garbage, a cursor of
 * another list) is a 422 on `query.cursor`, never a 500.
 *
 * @example decodeCursor(query.cursor, z.tuple([z.number().int(), z.string().uuid()]))
 */
export function decodeCursor<T extends z.ZodType>(cursor: string | undefined, schema: T): z.infer<T> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(cursor));
  } catch {
    parsed = undefined;
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new ProblemError("validation_failed", {
      detail: "The request has invalid fields; see `errors`.",
      errors: [{ path: "query.cursor", message: "is not a cursor of this list" }],
    });
  }
  return result.data;
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only tells that another page exists.
 *
 * @example
 * const rows = await query.limit(limit + 1).all();
 * return toPage(rows, limit, (row) => [row.createdAt, row.id], toItem);
 */
export function toPage<Row, Item>(rows: Row[], limit: number, keyOf: (row: Row) => CursorKey, toItem: (row: Row) => Item): { items: Item[]; next_cursor: string | null } {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return { items: pageRows.map(toItem), next_cursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
