import { sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";

/**
 * A statement for a D1 batch that aborts the whole batch (D1's transaction) unless `condition`
 * holds at that moment. D1 has no BEGIN, so "read, decide, write" is only safe when the decision is
 * re-checked inside the batch that writes: this is that re-check.
 *
 * The error is raised by json_extract with an invalid path, the one SQL error whose message
 * carries our own text, so `isGuardFailure` can tell it from a real failure.
 *
 * @example
 * await db.batch([abortUnless(db, sql`exists (select 1 from users where id = ${id} and is_active = 1)`, "login_guard"), insertSession]);
 */
export function abortUnless(db: Database, condition: SQL, marker: string): BatchItem<"sqlite"> {
  return db.select({ guard: sql`json_extract('{}', case when ${condition} then '$' else ${`batch_guard:${marker}`} end)` }).from(sql`(select 1)`);
}

/** True when `error` is the abort of `abortUnless(..., marker)`. */
export function isGuardFailure(error: unknown, marker: string): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.message} ${error.cause instanceof Error ? error.cause.message : String(error.cause ?? "")}`;
  return text.includes(`batch_guard:${marker}`);
}

/** Runs a batched write; when the guard `marker` aborted it, throws what `onFailure` returns instead. */
export async function guarded<T>(marker: string, write: () => Promise<T>, onFailure: () => Error): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isGuardFailure(error, marker)) throw onFailure();
    throw error;
  }
}
