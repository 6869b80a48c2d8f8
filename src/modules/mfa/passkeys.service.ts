/** Passkey registration and management (list, rename, delete). */
import type { z } from "@hono/zod-openapi";
import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { and, desc, eq } from "drizzle-orm";
import { mfaChallenges, recoveryCodes, users, webauthnCredentials } from "../../db/schema";
import { writeWithAudit } from "../../lib/audit";
import { newId } from "../../lib/ids";
import { ProblemError } from "../../lib/problem";
import type { AuthDeps } from "../auth/auth.context";
import { challengeRow, claimChallenge, findChallenge } from "./challenges";
import type { WebAuthnResponseSchema } from "./mfa.schemas";
import { factorCounts, hasSecondFactor } from "./mfa.state";
import { provenOnSession, recoveryCodeWrites } from "./totp.service";
import { challengeOf, passkeyMethod, registrationOptions, verifyRegistration, type StoredCredential } from "./webauthn";

type CredentialRow = typeof webauthnCredentials.$inferSelect;
type Principal = { userId: string; sessionId: string };

export function toPasskey(row: CredentialRow) {
  return {
    id: row.id,
    name: row.name,
    device_type: row.deviceType,
    backed_up: row.backedUp,
    transports: parseTransports(row.transports),
    created_at: new Date(row.createdAt).toISOString(),
    last_used_at: row.lastUsedAt === null ? null : new Date(row.lastUsedAt).toISOString(),
  };
}

function parseTransports(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string").slice(0, 10) : [];
  } catch {
    return [];
  }
}

export function storedCredential(row: CredentialRow): StoredCredential {
  return { credentialId: row.credentialId, publicKey: row.publicKey, signCount: row.signCount, transports: parseTransports(row.transports) };
}

export async function credentialsOf(deps: AuthDeps, userId: string): Promise<CredentialRow[]> {
  return deps.db.select().from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId)).orderBy(desc(webauthnCredentials.createdAt)).all();
}

/** Registration options bound to the caller's session; the challenge is stored for MFA_TOKEN_TTL. */
export async function startPasskeyRegistration(deps: AuthDeps, principal: Principal) {
  const user = await deps.db.select({ email: users.email, firstName: users.firstName, lastName: users.lastName }).from(users).where(eq(users.id, principal.userId)).get();
  if (!user) throw new ProblemError("unauthorized");
  const existing = await credentialsOf(deps, principal.userId);
  const options = await registrationOptions(deps.config, { id: principal.userId, email: user.email, displayName: `${user.firstName} ${user.lastName}` }, existing.map(storedCredential));
  const row = await challengeRow(deps, "passkey_register", options.challenge, { userId: principal.userId, sessionId: principal.sessionId, challenge: options.challenge });
  await deps.db.insert(mfaChallenges).values(row).run();
  return options;
}

const REGISTRATION_FAILED = "The passkey response did not verify (wrong or expired challenge, origin, or no user verification).";

/**
 * Completes a registration: the response must answer a live challenge issued to this very
 * session. The challenge is used up before verification, so a failed attempt cannot be retried
 * with it. The account's first factor also gets recovery codes (returned once).
 */
export async function finishPasskeyRegistration(deps: AuthDeps, principal: Principal, name: string | undefined, credential: z.infer<typeof WebAuthnResponseSchema>) {
  const challenge = challengeOf(credential);
  const row = challenge ? await findChallenge(deps, "passkey_register", challenge) : null;
  if (!row || row.userId !== principal.userId || row.sessionId !== principal.sessionId || !(await claimChallenge(deps, row.id))) {
    throw new ProblemError("invalid_mfa_code", { status: 400, detail: REGISTRATION_FAILED });
  }
  const verified = await verifyRegistration(deps.config, credential as unknown as RegistrationResponseJSON, row.challenge!);
  if (!verified) throw new ProblemError("invalid_mfa_code", { status: 400, detail: REGISTRATION_FAILED });

  const counts = await factorCounts(deps.db.$client, principal.userId);
  const firstFactor = !hasSecondFactor(counts);
  const recovery = firstFactor ? await recoveryCodeWrites(deps, principal.userId) : null;
  const id = newId(deps.now);
  const passkey: typeof webauthnCredentials.$inferInsert = {
    id,
    userId: principal.userId,
    credentialId: verified.credentialId,
    publicKey: verified.publicKey,
    signCount: verified.signCount,
    transports: JSON.stringify(verified.transports.slice(0, 10)),
    deviceType: verified.deviceType,
    backedUp: verified.backedUp,
    name: name ?? `Passkey ${new Date(deps.now).toISOString().slice(0, 10)}`,
    createdAt: deps.now,
    lastUsedAt: null,
  };
  try {
    await writeWithAudit(
      deps.db,
      deps.actor,
      [{ action: "mfa.passkey_added", actorUserId: principal.userId, sessionId: principal.sessionId, targetType: "passkey", targetId: id, changes: { name: passkey.name, device_type: passkey.deviceType, user_id: principal.userId } }],
      () => [deps.db.insert(webauthnCredentials).values(passkey), ...(recovery?.writes ?? []), provenOnSession(deps, principal.sessionId, [passkeyMethod(verified.deviceType)])],
      deps.now,
    );
  } catch (error) {
    if (/UNIQUE constraint failed: webauthn_credentials\.credential_id/.test(`${String(error)} ${String((error as Error).cause)}`)) {
      throw new ProblemError("already_exists", { detail: "This passkey is already registered." });
    }
    throw error;
  }
  const stored = await deps.db.select().from(webauthnCredentials).where(eq(webauthnCredentials.id, id)).get();
  return { passkey: toPasskey(stored!), ...(recovery ? { recovery_codes: recovery.codes } : {}) };
}

export async function listPasskeys(deps: AuthDeps, userId: string) {
  return (await credentialsOf(deps, userId)).map(toPasskey);
}

export async function renamePasskey(deps: AuthDeps, principal: Principal, id: string, name: string) {
  const updated = await deps.db
    .update(webauthnCredentials)
    .set({ name })
    .where(and(eq(webauthnCredentials.id, id), eq(webauthnCredentials.userId, principal.userId)))
    .returning()
    .get();
  if (!updated) throw new ProblemError("not_found", { detail: "No such passkey." });
  return toPasskey(updated);
}

/** Deletes one of the caller's passkeys; recovery codes go too when it was the last factor. */
export async function deletePasskey(deps: AuthDeps, principal: Principal, id: string): Promise<void> {
  const row = await deps.db.select().from(webauthnCredentials).where(and(eq(webauthnCredentials.id, id), eq(webauthnCredentials.userId, principal.userId))).get();
  if (!row) throw new ProblemError("not_found", { detail: "No such passkey." });
  const counts = await factorCounts(deps.db.$client, principal.userId);
  const lastFactor = !counts.totp && counts.passkeys <= 1;
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "mfa.passkey_removed", actorUserId: principal.userId, sessionId: principal.sessionId, targetType: "passkey", targetId: id, changes: { name: row.name, user_id: principal.userId } }],
    () => [
      deps.db.delete(webauthnCredentials).where(eq(webauthnCredentials.id, id)),
      ...(lastFactor ? [deps.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, principal.userId))] : []),
    ],
    deps.now,
  );
}
