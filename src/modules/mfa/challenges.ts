/**
 * Short-lived, single-use MFA state in `mfa_challenges`. A row is claimed with one conditional
 * update (`used_at is null`), so of concurrent uses exactly one wins, and an expired or used row
 * is the same "invalid" to the caller.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { mfaChallenges } from "../../db/schema";
import { abortUnless } from "../../lib/batch-guard";
import { newId } from "../../lib/ids";
import { sha256Hex } from "../../lib/tokens";
import type { AuthDeps } from "../auth/auth.context";

export type ChallengeKind = (typeof mfaChallenges.$inferSelect)["kind"];
export type ChallengeRow = typeof mfaChallenges.$inferSelect;

/** A new row; `handle` is what the client presents (the mfa_token, or the WebAuthn challenge itself). */
export async function challengeRow(
  deps: Pick<AuthDeps, "now" | "config">,
  kind: ChallengeKind,
  handle: string,
  fields: { userId?: string | null; sessionId?: string | null; challenge?: string | null; amr?: string[] | null; passwordChangedAt?: number | null },
): Promise<typeof mfaChallenges.$inferInsert> {
  return {
    id: newId(deps.now),
    kind,
    userId: fields.userId ?? null,
    sessionId: fields.sessionId ?? null,
    tokenHash: await sha256Hex(`${kind}:${handle}`),
    challenge: fields.challenge ?? null,
    amr: fields.amr ? JSON.stringify(fields.amr) : null,
    passwordChangedAt: fields.passwordChangedAt ?? null,
    createdAt: deps.now,
    expiresAt: deps.now + deps.config.MFA_TOKEN_TTL * 1000,
  };
}

/** The live (unused, unexpired) row a handle names, or null. */
export async function findChallenge(deps: Pick<AuthDeps, "db" | "now">, kind: ChallengeKind, handle: string): Promise<ChallengeRow | null> {
  const row = await deps.db
    .select()
    .from(mfaChallenges)
    .where(and(eq(mfaChallenges.tokenHash, await sha256Hex(`${kind}:${handle}`)), eq(mfaChallenges.kind, kind), isNull(mfaChallenges.usedAt)))
    .get();
  return row && row.expiresAt > deps.now ? row : null;
}

/** Uses a row up; false when another request used it first. */
export async function claimChallenge(deps: Pick<AuthDeps, "db" | "now">, id: string): Promise<boolean> {
  const claimed = await deps.db.update(mfaChallenges).set({ usedAt: deps.now }).where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.usedAt))).run();
  return claimed.meta.changes === 1;
}

/**
 * A batch guard and the claim of a row, for the batch that acts on it: the batch aborts unless the
 * row is still live at that moment, so of concurrent uses exactly one writes.
 */
export function claimInBatch(deps: Pick<AuthDeps, "db" | "now">, id: string, marker: string): BatchItem<"sqlite">[] {
  return [
    abortUnless(deps.db, sql`exists (select 1 from ${mfaChallenges} where ${mfaChallenges.id} = ${id} and ${mfaChallenges.usedAt} is null and ${mfaChallenges.expiresAt} > ${deps.now})`, marker),
    deps.db.update(mfaChallenges).set({ usedAt: deps.now }).where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.usedAt))),
  ];
}

/** Records the WebAuthn challenge issued for a live row (the login's second step). */
export async function attachChallenge(deps: Pick<AuthDeps, "db" | "now">, id: string, challenge: string): Promise<boolean> {
  const updated = await deps.db.update(mfaChallenges).set({ challenge }).where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.usedAt))).run();
  return updated.meta.changes === 1;
}
