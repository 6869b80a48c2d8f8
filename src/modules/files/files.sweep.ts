/**
 * The periodic sweep (cron, every 30 minutes): removes R2 objects under `files/` that are older
 * than an hour and have no D1 row. Such objects exist only when an upload crashed between the R2
 * write and the D1 insert, or when deleting an object failed after its row was gone.
 */
import { inArray } from "drizzle-orm";
import { createDb, type Database } from "../../db/client";
import { files } from "../../db/schema";
import type { Bindings } from "../../bindings";
import { loadConfig } from "../../env";
import { createLogger, describeError, type Logger } from "../../lib/logger";
import { FILES_PREFIX } from "./files.storage";

/** An upload takes seconds; an hour leaves no doubt that a row-less object is abandoned. */
export const ORPHAN_MIN_AGE_MS = 60 * 60 * 1000;
/** D1 allows 100 bound parameters per statement. */
const LOOKUP_CHUNK = 90;
/** Where the sweep remembers how far it got when a run stops at its page budget. */
export const SWEEP_CURSOR_KEY = "_sweep/files-cursor";

export interface SweepOptions {
  now: number;
  /** Only objects under this prefix (default `files/`). */
  prefix?: string;
  /** List pages per run, to bound one invocation's work. */
  maxPages?: number;
  /** Objects per list page (R2's maximum, 1000, by default). */
  pageSize?: number;
}

export interface SweepResult {
  scanned: number;
  deleted: number;
  /** True when the whole prefix was covered; false when the page budget ran out (the next run resumes). */
  complete: boolean;
}

async function keysWithRows(db: Database, keys: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let start = 0; start < keys.length; start += LOOKUP_CHUNK) {
    const rows = await db
      .select({ key: files.r2Key })
      .from(files)
      .where(inArray(files.r2Key, keys.slice(start, start + LOOKUP_CHUNK)));
    for (const row of rows) found.add(row.key);
  }
  return found;
}

/**
 * One sweep over `prefix`. Resumes after the key it stopped at last time (kept in R2 itself, outside
 * the swept prefix), so a bucket larger than one run's budget is still covered over several runs.
 */
export async function sweepOrphanedObjects(db: Database, bucket: R2Bucket, options: SweepOptions): Promise<SweepResult> {
  const prefix = options.prefix ?? FILES_PREFIX;
  const maxPages = options.maxPages ?? 20;
  const cutoff = options.now - ORPHAN_MIN_AGE_MS;
  const cursorKey = `${SWEEP_CURSOR_KEY}/${prefix}`;
  const saved = await bucket.get(cursorKey);
  const startAfter = saved ? await saved.text() : undefined;
  let cursor: string | undefined;
  let scanned = 0;
  let deleted = 0;
  let lastKey: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const listing = await bucket.list({ prefix, limit: options.pageSize ?? 1000, ...(cursor ? { cursor } : startAfter ? { startAfter } : {}) });
    scanned += listing.objects.length;
    lastKey = listing.objects.at(-1)?.key ?? lastKey;
    const old = listing.objects.filter((object) => object.uploaded.getTime() < cutoff).map((object) => object.key);
    if (old.length > 0) {
      const kept = await keysWithRows(db, old);
      const orphans = old.filter((key) => !kept.has(key));
      if (orphans.length > 0) {
        await bucket.delete(orphans);
        deleted += orphans.length;
      }
    }
    if (!listing.truncated) {
      if (saved) await bucket.delete(cursorKey);
      return { scanned, deleted, complete: true };
    }
    cursor = listing.cursor;
  }
  if (lastKey) await bucket.put(cursorKey, lastKey);
  return { scanned, deleted, complete: false };
}

/** The cron entry point: one sweep, logged; a failure is logged and retried by the next run. */
export async function runScheduledSweep(bindings: Bindings, scheduledTime: number, logger?: Logger): Promise<SweepResult | null> {
  const loaded = loadConfig(bindings);
  const log = logger ?? createLogger(loaded.ok ? loaded.config.LOG_LEVEL : "info", { task: "files_sweep" });
  try {
    const result = await sweepOrphanedObjects(createDb(bindings.DB), bindings.FILES, { now: scheduledTime });
    log.info("files sweep finished", { ...result });
    return result;
  } catch (error) {
    log.error("files sweep failed", describeError(error));
    return null;
  }
}
