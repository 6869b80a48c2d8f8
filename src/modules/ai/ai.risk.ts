import { recentBlocks } from "./ai.usage";

/**
 * How long an isolate trusts its count of a user's blocked screenings (the input of the risk
 * score) before counting the usage rows in D1 again. The score only tightens the `ai_user` rate
 * limit, so a short staleness is acceptable, and it is bounded by this: a block recorded by
 * another isolate counts here at the latest this long after, and a block leaves the 24-hour window
 * at the latest this long late. Blocks this isolate records count from its next request (one whose
 * usage row is still being written when the count is read again may count up to this long late).
 */
export const RISK_CACHE_MS = 60_000;
/** Users remembered per isolate; beyond it the least recently loaded is forgotten (and read again). */
const MAX_USERS = 10_000;

const counts = new Map<string, { blocks: number; loadedAt: number }>();

/**
 * The user's blocked screenings in the last 24 hours, as the risk score counts them: read from D1
 * at most once per RISK_CACHE_MS per user and isolate instead of on every AI request.
 */
export async function recentBlocksCached(db: D1Database, userId: string, now: number): Promise<number> {
  const known = counts.get(userId);
  if (known && now - known.loadedAt < RISK_CACHE_MS && known.loadedAt <= now) return known.blocks;
  const blocks = await recentBlocks(db, userId, now);
  counts.delete(userId);
  counts.set(userId, { blocks, loadedAt: now });
  if (counts.size > MAX_USERS) counts.delete(counts.keys().next().value!);
  return blocks;
}

/** A block this isolate has just recorded: counted at once, before its usage row is written. */
export function noteBlock(userId: string): void {
  const known = counts.get(userId);
  if (known) known.blocks += 1;
}
