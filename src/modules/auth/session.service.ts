import { and, desc, eq, isNull, ne, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { refreshTokens, sessions, users } from "../../db/schema";
import { currentAssurance, parseMethods, PASSWORD_ONLY, type SignInAssurance } from "../../lib/assurance";
import { writeWithAudit, type AuditEvent } from "../../lib/audit";
import { recordMetric } from "../../lib/metrics/recorder";
import { abortUnless, guarded } from "../../lib/batch-guard";
import { newId } from "../../lib/ids";
import { signAccessToken, type AccessTokenExtraClaims, type Assurance } from "../../lib/jwt";
import { ProblemError } from "../../lib/problem";
import { randomToken, sha256Hex } from "../../lib/tokens";
import { getProfile } from "../users/users.service";
import type { AuthDeps } from "./auth.context";

export interface TokenPair {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

const REFRESH_TOKEN_PREFIX = "rt_";
const REFRESH_GUARD = "refresh_state_changed";

function invalidRefresh(detail = "The refresh token is invalid, expired or already used."): ProblemError {
  return new ProblemError("invalid_refresh_token", { detail });
}

async function newRefreshToken(deps: AuthDeps, sessionId: string, sessionExpiresAt: number) {
  const token = randomToken(32, REFRESH_TOKEN_PREFIX);
  const expiresAt = Math.min(deps.now + deps.config.REFRESH_TOKEN_TTL * 1000, sessionExpiresAt);
  const row = { id: newId(deps.now), sessionId, tokenHash: await sha256Hex(token), createdAt: deps.now, expiresAt };
  return { token, expiresAt, row };
}

/** The claims ACCESS_TOKEN_CLAIMS asks for, read now (one query, only when any are configured). */
async function extraClaims(deps: AuthDeps, userId: string): Promise<AccessTokenExtraClaims> {
  const wanted = deps.config.ACCESS_TOKEN_CLAIMS;
  if (wanted.length === 0) return {};
  const access = await getProfile(deps.db, userId);
  return {
    ...(wanted.includes("roles") ? { roles: access?.roles ?? [] } : {}),
    ...(wanted.includes("permissions") ? { permissions: access?.permissions ?? [] } : {}),
  };
}

/** An access token of a session, with its assurance and the configured extra claims. */
export async function sessionAccessToken(deps: AuthDeps, userId: string, sessionId: string, assurance: Assurance) {
  return signAccessToken(deps.config, { userId, sessionId, assurance }, deps.now, await extraClaims(deps, userId));
}

async function tokenPair(deps: AuthDeps, userId: string, sessionId: string, refreshToken: string, refreshExpiresAt: number, assurance: Assurance): Promise<TokenPair> {
  const access = await sessionAccessToken(deps, userId, sessionId, assurance);
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    refresh_expires_in: Math.max(0, Math.floor((refreshExpiresAt - deps.now) / 1000)),
  };
}

/**
 * Starts a session for a user whose credentials were just proven, with `extra` statements (guards
 * that abort the batch, a password rehash) and the login audit event in the same batch.
 * `assurance` says how the user authenticated (password only unless a second factor or a passkey
 * was verified).
 */
export async function startSession(
  deps: AuthDeps,
  userId: string,
  extra: BatchItem<"sqlite">[] = [],
  events: AuditEvent[] = [],
  assurance: SignInAssurance = PASSWORD_ONLY,
): Promise<TokenPair> {
  const sessionId = newId(deps.now);
  const expiresAt = deps.now + deps.config.SESSION_MAX_AGE * 1000;
  const refresh = await newRefreshToken(deps, sessionId, expiresAt);
  await writeWithAudit(
    deps.db,
    { ...deps.actor, userId },
    [{ action: "user.login_succeeded", actorUserId: userId, sessionId, targetType: "user", targetId: userId, changes: { amr: assurance.amr, acr: assurance.acr } }, ...events],
    // `extra` first: a guard among them must see the state before this batch's own writes.
    () => [
      ...extra,
      deps.db.insert(sessions).values({
        id: sessionId,
        userId,
        createdAt: deps.now,
        lastUsedAt: deps.now,
        expiresAt,
        userAgent: deps.client.userAgent,
        country: deps.client.country,
        acr: assurance.acr,
        amr: JSON.stringify(assurance.amr),
        authTime: deps.now,
        mfaVerifiedAt: assurance.mfaMethods ? deps.now : null,
        mfaMethods: assurance.mfaMethods ? JSON.stringify(assurance.mfaMethods) : null,
      }),
      deps.db.insert(refreshTokens).values(refresh.row),
    ],
    deps.now,
  );
  return tokenPair(deps, userId, sessionId, refresh.token, refresh.expiresAt, { acr: assurance.acr, amr: assurance.amr, authTime: deps.now });
}

/**
 * Rotates a refresh token (RFC 9700 §4.14). The presented token is claimed with one conditional
 * update, so of concurrent refreshes with the same token exactly one wins. A token that was
 * already rotated out is either a racing client (within REFRESH_REUSE_GRACE: refused, session
 * kept) or a stolen copy (after it: the whole session is ended and the reuse is audited).
 */
export async function refreshSession(deps: AuthDeps, presented: string): Promise<TokenPair> {
  const hash = await sha256Hex(presented);
  const row = await deps.db
    .select({
      id: refreshTokens.id,
      sessionId: refreshTokens.sessionId,
      expiresAt: refreshTokens.expiresAt,
      usedAt: refreshTokens.usedAt,
      userId: sessions.userId,
      sessionEndedAt: sessions.endedAt,
      sessionExpiresAt: sessions.expiresAt,
      sessionCreatedAt: sessions.createdAt,
      acr: sessions.acr,
      amr: sessions.amr,
      authTime: sessions.authTime,
      mfaVerifiedAt: sessions.mfaVerifiedAt,
      mfaMethods: sessions.mfaMethods,
      isActive: users.isActive,
    })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, hash))
    .get();
  if (!row || row.sessionEndedAt !== null) throw invalidRefresh();

  if (row.usedAt !== null) {
    if (deps.now - row.usedAt <= deps.config.REFRESH_REUSE_GRACE * 1000) {
      throw invalidRefresh("This refresh token was just rotated; use the newest one.");
    }
    recordMetric("edge_auth_refresh_reuse_total", {});
    await endSessions(deps, { userId: row.userId, sessionId: row.sessionId }, "refresh_token_reuse", {
      action: "session.reuse_detected",
      actorUserId: null,
      sessionId: row.sessionId,
      targetType: "session",
      targetId: row.sessionId,
      changes: { reason: "a rotated-out refresh token was presented again" },
    });
    throw invalidRefresh();
  }
  if (row.expiresAt <= deps.now || row.sessionExpiresAt <= deps.now || !row.isActive) throw invalidRefresh();

  const next = await newRefreshToken(deps, row.sessionId, row.sessionExpiresAt);
  // One batch: the presented token is claimed, and the new one issued, only if at that moment the
  // token is unused, the session live and the user active. A reset, logout, disable or delete that
  // lands while this request runs wins; then nothing is written and the client gets a 401.
  await guarded(
    REFRESH_GUARD,
    () =>
      deps.db.batch([
        abortUnless(
          deps.db,
          sql`exists (select 1 from ${refreshTokens} join ${sessions} on ${sessions.id} = ${refreshTokens.sessionId} join ${users} on ${users.id} = ${sessions.userId}
            where ${refreshTokens.id} = ${row.id} and ${refreshTokens.usedAt} is null and ${sessions.endedAt} is null and ${users.isActive} = 1)`,
          REFRESH_GUARD,
        ),
        deps.db.update(refreshTokens).set({ usedAt: deps.now }).where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.usedAt))),
        deps.db.insert(refreshTokens).values(next.row),
        deps.db.update(sessions).set({ lastUsedAt: deps.now }).where(eq(sessions.id, row.sessionId)),
      ]),
    () => invalidRefresh(),
  );
  // The session's own level, never more: a step-up lifts it only while its window lasts.
  const assurance = currentAssurance(
    { acr: row.acr, amr: parseMethods(row.amr), authTime: row.authTime ?? row.sessionCreatedAt, mfaVerifiedAt: row.mfaVerifiedAt, mfaMethods: parseMethods(row.mfaMethods) },
    deps.now,
    deps.config.MFA_STEP_UP_WINDOW,
  );
  return tokenPair(deps, row.userId, row.sessionId, next.token, next.expiresAt, assurance);
}

type SessionScope =
  | { userId: string; sessionId: string }
  | { userId: string; exceptSessionId?: string };

/**
 * Ends sessions (one, all of a user's, or all but one) with the audit event in the same batch.
 * Ended sessions stop authenticating at once: the request path checks them on every call.
 * Returns how many sessions were ended.
 */
export async function endSessions(deps: AuthDeps, scope: SessionScope, reason: string, event: AuditEvent | null, extra: BatchItem<"sqlite">[] = []): Promise<number> {
  const filters = [eq(sessions.userId, scope.userId), isNull(sessions.endedAt)];
  if ("sessionId" in scope) filters.push(eq(sessions.id, scope.sessionId));
  else if (scope.exceptSessionId) filters.push(ne(sessions.id, scope.exceptSessionId));
  let ended = 0;
  const statement = () => deps.db.update(sessions).set({ endedAt: deps.now, endReason: reason }).where(and(...filters));
  const live = await deps.db.select({ id: sessions.id }).from(sessions).where(and(...filters)).all();
  ended = live.length;
  const events = event ? [{ ...event, changes: { ...event.changes, reason, sessions_ended: ended } }] : [];
  await writeWithAudit(deps.db, deps.actor, events, () => [statement(), ...extra], deps.now);
  return ended;
}

/** Ends the session a refresh token belongs to (logout). Unknown tokens end nothing, silently. */
export async function logoutByRefreshToken(deps: AuthDeps, presented: string): Promise<void> {
  const row = await deps.db
    .select({ sessionId: refreshTokens.sessionId, userId: sessions.userId, endedAt: sessions.endedAt })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, await sha256Hex(presented)))
    .get();
  if (!row || row.endedAt !== null) return;
  await endSessions(deps, { userId: row.userId, sessionId: row.sessionId }, "logout", {
    action: "session.ended",
    actorUserId: row.userId,
    sessionId: row.sessionId,
    targetType: "session",
    targetId: row.sessionId,
  });
}

/** The session a refresh token belongs to (used or not), or null. */
export async function sessionIdOfRefreshToken(db: AuthDeps["db"], presented: string): Promise<string | null> {
  const row = await db.select({ sessionId: refreshTokens.sessionId }).from(refreshTokens).where(eq(refreshTokens.tokenHash, await sha256Hex(presented))).get();
  return row?.sessionId ?? null;
}

/** The user's live sessions, newest first. */
export async function listSessions(deps: Pick<AuthDeps, "db" | "now">, userId: string, currentSessionId: string | null) {
  const rows = await deps.db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt)))
    .orderBy(desc(sessions.createdAt))
    .all();
  return rows
    .filter((row) => row.expiresAt > deps.now)
    .map((row) => ({
      id: row.id,
      created_at: new Date(row.createdAt).toISOString(),
      last_used_at: new Date(row.lastUsedAt).toISOString(),
      expires_at: new Date(row.expiresAt).toISOString(),
      user_agent: row.userAgent,
      country: row.country,
      current: row.id === currentSessionId,
    }));
}
