/**
 * TOTP enrollment and verification, and recovery codes. Secrets are sealed with AES-GCM under
 * MFA_ENCRYPTION_KEYS (lib/secret-box.ts) and never returned after enrollment.
 */
import { encodeBase32UpperCaseNoPadding } from "@oslojs/encoding";
import { and, eq, isNotNull, isNull, lt, or } from "drizzle-orm";
import { recoveryCodes, sessions, totpFactors, users } from "../../db/schema";
import { writeWithAudit } from "../../lib/audit";
import { newId } from "../../lib/ids";
import { ProblemError } from "../../lib/problem";
import { open, seal, SecretBoxError, sealedKid } from "../../lib/secret-box";
import type { AuthDeps } from "../auth/auth.context";
import { factorCounts, hasSecondFactor, methodsOf } from "./mfa.state";
import { hashRecoveryCode, newRecoveryCodes } from "./recovery-codes";
import { matchTotp, newTotpSecret, totpUri } from "./totp";

function notConfigured(cause: unknown): ProblemError {
  return new ProblemError("misconfigured", { detail: "Two-step verification is not configured on this server (MFA_ENCRYPTION_KEYS).", cause });
}

/** The rows that replace every recovery code of a user (the old ones stop working in the same batch). */
export async function recoveryCodeWrites(deps: AuthDeps, userId: string) {
  const codes = newRecoveryCodes();
  const rows = await Promise.all(codes.map(async (code) => ({ id: newId(deps.now), userId, codeHash: await hashRecoveryCode(code), createdAt: deps.now })));
  return {
    codes,
    writes: [deps.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)), deps.db.insert(recoveryCodes).values(rows)] as const,
  };
}

/** The caller's second-factor status. */
export async function mfaStatus(deps: AuthDeps, userId: string) {
  const [counts, pending] = await Promise.all([
    factorCounts(deps.db.$client, userId),
    deps.db.select({ confirmedAt: totpFactors.confirmedAt }).from(totpFactors).where(eq(totpFactors.userId, userId)).get(),
  ]);
  return {
    totp: { enabled: counts.totp, pending: pending !== undefined && pending.confirmedAt === null },
    passkeys: counts.passkeys,
    recovery_codes_remaining: counts.recoveryCodes,
    methods: methodsOf(counts),
  };
}

/**
 * Starts TOTP enrollment: a fresh secret, stored sealed and inactive until confirmed. Starting
 * again replaces a pending secret; an active one must be removed first (409).
 */
export async function startTotpEnrollment(deps: AuthDeps, userId: string) {
  const existing = await deps.db.select({ confirmedAt: totpFactors.confirmedAt }).from(totpFactors).where(eq(totpFactors.userId, userId)).get();
  if (existing?.confirmedAt != null) throw new ProblemError("conflict", { detail: "An authenticator app is already set up; remove it first." });
  const user = await deps.db.select({ email: users.email }).from(users).where(eq(users.id, userId)).get();
  if (!user) throw new ProblemError("unauthorized");
  const secret = newTotpSecret();
  let sealed: string;
  try {
    sealed = await seal(deps.config.MFA_ENCRYPTION_KEYS, secret, userId);
  } catch (error) {
    if (error instanceof SecretBoxError) throw notConfigured(error);
    throw error;
  }
  await deps.db
    .insert(totpFactors)
    .values({ userId, secretCiphertext: sealed, confirmedAt: null, lastUsedStep: null, createdAt: deps.now })
    .onConflictDoUpdate({ target: totpFactors.userId, set: { secretCiphertext: sealed, createdAt: deps.now, lastUsedStep: null }, where: isNull(totpFactors.confirmedAt) })
    .run();
  return {
    secret: encodeBase32UpperCaseNoPadding(secret),
    otpauth_uri: totpUri(deps.config.MFA_ISSUER, user.email, secret),
    algorithm: "SHA1" as const,
    digits: 6 as const,
    period: 30 as const,
  };
}

async function openSecret(deps: AuthDeps, userId: string, sealed: string): Promise<Uint8Array> {
  try {
    return await open(deps.config.MFA_ENCRYPTION_KEYS, sealed, userId);
  } catch (error) {
    if (error instanceof SecretBoxError) throw notConfigured(error);
    throw error;
  }
}

/**
 * Activates a pending TOTP secret once the app shows a valid code, and replaces the recovery
 * codes (returned once). The code's step counts as used.
 */
export async function confirmTotp(deps: AuthDeps, userId: string, sessionId: string, code: string): Promise<string[]> {
  const pending = await deps.db.select().from(totpFactors).where(and(eq(totpFactors.userId, userId), isNull(totpFactors.confirmedAt))).get();
  if (!pending) throw new ProblemError("conflict", { detail: "There is no pending authenticator app: POST /api/v1/auth/mfa/totp first." });
  const step = matchTotp(await openSecret(deps, userId, pending.secretCiphertext), code.trim(), deps.now, null);
  if (step === null) {
    throw new ProblemError("invalid_mfa_code", { status: 400, detail: "The code does not match; check the app's clock and try the next code." });
  }
  const recovery = await recoveryCodeWrites(deps, userId);
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "mfa.totp_enrolled", actorUserId: userId, sessionId, targetType: "user", targetId: userId }],
    () => [
      deps.db.update(totpFactors).set({ confirmedAt: deps.now, lastUsedStep: step }).where(and(eq(totpFactors.userId, userId), isNull(totpFactors.confirmedAt))),
      ...recovery.writes,
      // The code just proved the factor: this session counts as stepped up (and can finish setting up).
      provenOnSession(deps, sessionId, ["otp"]),
    ],
    deps.now,
  );
  return recovery.codes;
}

/** Records a second-factor proof on a session (sign-in level unchanged; see lib/assurance.ts). */
export function provenOnSession(deps: AuthDeps, sessionId: string, methods: string[]) {
  return deps.db.update(sessions).set({ mfaVerifiedAt: deps.now, mfaMethods: JSON.stringify(methods) }).where(eq(sessions.id, sessionId));
}

/** Removes the authenticator app (pending or active); recovery codes go too when no passkey remains. */
export async function removeTotp(deps: AuthDeps, userId: string, sessionId: string): Promise<void> {
  const existing = await deps.db.select({ confirmedAt: totpFactors.confirmedAt }).from(totpFactors).where(eq(totpFactors.userId, userId)).get();
  if (!existing) throw new ProblemError("not_found", { detail: "No authenticator app is set up." });
  const { passkeys } = await factorCounts(deps.db.$client, userId);
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "mfa.totp_removed", actorUserId: userId, sessionId, targetType: "user", targetId: userId }],
    () => [
      deps.db.delete(totpFactors).where(eq(totpFactors.userId, userId)),
      // Codes alone are no second factor: without a passkey they would only be a way around none.
      ...(passkeys === 0 ? [deps.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId))] : []),
    ],
    deps.now,
  );
}

/** Replaces every recovery code; only for an account with a second factor. */
export async function regenerateRecoveryCodes(deps: AuthDeps, userId: string, sessionId: string): Promise<string[]> {
  if (!hasSecondFactor(await factorCounts(deps.db.$client, userId))) {
    throw new ProblemError("conflict", { detail: "Set up an authenticator app or a passkey first; recovery codes come with it." });
  }
  const recovery = await recoveryCodeWrites(deps, userId);
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "mfa.recovery_codes_regenerated", actorUserId: userId, sessionId, targetType: "user", targetId: userId }],
    () => [...recovery.writes],
    deps.now,
  );
  return recovery.codes;
}

/** Verifies a TOTP code for an active factor and marks its step used; false on any mismatch or replay. */
export async function useTotpCode(deps: AuthDeps, userId: string, code: string): Promise<boolean> {
  const factor = await deps.db.select().from(totpFactors).where(and(eq(totpFactors.userId, userId), isNotNull(totpFactors.confirmedAt))).get();
  if (!factor) return false;
  const secret = await openSecret(deps, userId, factor.secretCiphertext);
  const step = matchTotp(secret, code.trim(), deps.now, factor.lastUsedStep);
  if (step === null) return false;
  // A secret still under a retired key moves to the current one on use, so old keys can be dropped.
  const resealed = sealedKid(factor.secretCiphertext) === deps.config.MFA_ENCRYPTION_KEYS[0]?.kid ? {} : { secretCiphertext: await seal(deps.config.MFA_ENCRYPTION_KEYS, secret, userId) };
  // Conditional: of two requests with the same code, exactly one moves the step forward.
  const claimed = await deps.db
    .update(totpFactors)
    .set({ lastUsedStep: step, ...resealed })
    .where(and(eq(totpFactors.userId, userId), or(isNull(totpFactors.lastUsedStep), lt(totpFactors.lastUsedStep, step))))
    .run();
  return claimed.meta.changes === 1;
}

/** Uses up a recovery code; returns how many remain, or null when the code is not an unused one. */
export async function useRecoveryCode(deps: AuthDeps, userId: string, code: string): Promise<number | null> {
  const claimed = await deps.db
    .update(recoveryCodes)
    .set({ usedAt: deps.now })
    .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.codeHash, await hashRecoveryCode(code)), isNull(recoveryCodes.usedAt)))
    .run();
  if (claimed.meta.changes !== 1) return null;
  return (await factorCounts(deps.db.$client, userId)).recoveryCodes;
}

