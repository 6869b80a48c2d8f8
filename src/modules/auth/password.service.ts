import { and, eq, isNull, sql } from "drizzle-orm";
import { emailTokens, users } from "../../db/schema";
import { writeWithAudit } from "../../lib/audit";
import { abortUnless, guarded } from "../../lib/batch-guard";
import { normalizeEmail } from "../../lib/email";
import { describeTtl, emailLink, passwordChangedEmail, passwordResetEmail } from "../../lib/mail";
import { hashPassword, verifyPassword } from "../../lib/password";
import { ProblemError } from "../../lib/problem";
import type { AuthDeps } from "./auth.context";
import { argon2Params, assertPasswordPolicy, claimEmailTokenStatements, findEmailToken, newEmailToken, withEmailTokenClaim } from "./auth.service";
import { endSessions } from "./session.service";

/**
 * Starts a password reset. The response never depends on the address: the lookup, the token and
 * the email all happen after it (ctx.waitUntil). A new request supersedes earlier reset tokens.
 */
export function forgotPassword(deps: AuthDeps, rawEmail: string): void {
  const email = normalizeEmail(rawEmail);
  deps.defer(async () => {
    const user = await deps.db.select({ id: users.id, isActive: users.isActive }).from(users).where(eq(users.email, email)).get();
    if (!user || !user.isActive) return;
    const reset = await newEmailToken(deps, user.id, "password_reset", deps.config.PASSWORD_RESET_TTL);
    await writeWithAudit(
      deps.db,
      deps.actor,
      [{ action: "user.password_reset_requested", actorUserId: null, targetType: "user", targetId: user.id }],
      () => [
        deps.db
          .update(emailTokens)
          .set({ usedAt: deps.now })
          .where(and(eq(emailTokens.userId, user.id), eq(emailTokens.purpose, "password_reset"), isNull(emailTokens.usedAt))),
        deps.db.insert(emailTokens).values(reset.row),
      ],
      deps.now,
    );
    deps.mail({ to: email, ...passwordResetEmail(emailLink(deps.config, "reset_password", reset.token), describeTtl(deps.config.PASSWORD_RESET_TTL)) });
  });
}

/**
 * Sets a new password from a reset token and ends every session of the user. The token is used
 * up in the batch that changes the password, so a failed batch leaves it usable. Returns the
 * account's email (the caller clears its login lock-out).
 */
export async function resetPassword(deps: AuthDeps, token: string, newPassword: string): Promise<string> {
  const { id: tokenId, userId } = await findEmailToken(deps, token, "password_reset");
  const user = await deps.db.select({ email: users.email }).from(users).where(eq(users.id, userId)).get();
  if (!user) throw new ProblemError("invalid_token", { detail: "The token is invalid, expired or already used." });
  // The policy is checked before the token is used up: a refused password must leave the emailed
  // link working, or the user would have to request (and wait for) another one.
  assertPasswordPolicy(deps.config, newPassword, user.email, "new_password");
  const passwordHash = await hashPassword(newPassword, argon2Params(deps.config));
  await withEmailTokenClaim(() =>
    endSessions(
      deps,
      { userId },
      "password_reset",
      { action: "user.password_reset", actorUserId: userId, targetType: "user", targetId: userId },
      [
        ...claimEmailTokenStatements(deps, tokenId),
        deps.db.update(users).set({ passwordHash, passwordChangedAt: deps.now, updatedAt: deps.now }).where(eq(users.id, userId)),
      ],
    ),
  );
  deps.mail({ to: user.email, ...passwordChangedEmail(emailLink(deps.config, "forgot_password")) });
  return user.email;
}

const CHANGE_GUARD = "password_changed_meanwhile";

/**
 * Changes the caller's password after checking the current one; every other session ends.
 * Everything cheap (the new password's policy) is checked before the current password is hashed.
 * The change applies only if the password was not changed or reset while this request hashed.
 */
export async function changePassword(deps: AuthDeps, principal: { userId: string; sessionId: string | null }, current: string, next: string): Promise<void> {
  const user = await deps.db
    .select({ email: users.email, passwordHash: users.passwordHash, passwordChangedAt: users.passwordChangedAt })
    .from(users)
    .where(eq(users.id, principal.userId))
    .get();
  if (!user) throw new ProblemError("unauthorized");
  assertPasswordPolicy(deps.config, next, user.email, "new_password");
  const params = argon2Params(deps.config);
  const verdict = await verifyPassword(current, user.passwordHash, params);
  const incorrect = () => new ProblemError("current_password_incorrect", { detail: "The current password is incorrect." });
  if (!verdict.ok) throw incorrect();
  const passwordHash = await hashPassword(next, params);
  await guarded(
    CHANGE_GUARD,
    () =>
      endSessions(
        deps,
        { userId: principal.userId, exceptSessionId: principal.sessionId ?? undefined },
        "password_changed",
        { action: "user.password_changed", actorUserId: principal.userId, sessionId: principal.sessionId, targetType: "user", targetId: principal.userId },
        [
          abortUnless(deps.db, sql`exists (select 1 from ${users} where ${users.id} = ${principal.userId} and ${users.passwordChangedAt} = ${user.passwordChangedAt})`, CHANGE_GUARD),
          deps.db.update(users).set({ passwordHash, passwordChangedAt: deps.now, updatedAt: deps.now }).where(eq(users.id, principal.userId)),
        ],
      ),
    incorrect,
  );
  deps.mail({ to: user.email, ...passwordChangedEmail(emailLink(deps.config, "forgot_password")) });
}
