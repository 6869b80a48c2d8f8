/**
 * Proving a second factor: completing a login (POST /auth/mfa/verify), stepping a session up,
 * and passwordless passkey sign-in. Each proof is single-use: a TOTP step once, a recovery code
 * once, a WebAuthn challenge once, an mfa_token once.
 */
import type { z } from "@hono/zod-openapi";
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { and, eq } from "drizzle-orm";
import { mfaChallenges, sessions, users, webauthnCredentials } from "../../db/schema";
import { currentAssurance, parseMethods, type AuthMethod } from "../../lib/assurance";
import { recordAudit, writeWithAudit } from "../../lib/audit";
import { guarded } from "../../lib/batch-guard";
import { buildLink, mfaChangedEmail } from "../../lib/mail";
import { ProblemError } from "../../lib/problem";
import { base64Url } from "../../lib/tokens";
import type { AuthDeps } from "../auth/auth.context";
import { assertAccountCanSignIn, LOGIN_GUARD, signInStillValid } from "../auth/auth.service";
import { issueDeviceToken } from "../auth/device-token";
import { sessionAccessToken, startSession } from "../auth/session.service";
import { attachChallenge, challengeRow, claimChallenge, claimInBatch, findChallenge } from "./challenges";
import type { WebAuthnResponseSchema } from "./mfa.schemas";
import type { SecondFactorMethod } from "./mfa.state";
import { credentialsOf, storedCredential } from "./passkeys.service";
import { provenOnSession, useRecoveryCode, useTotpCode } from "./totp.service";
import { authenticationOptions, challengeOf, passkeyMethod, verifyAssertion } from "./webauthn";

/** As the request schema admits it; the ceremony checks every field it needs (a missing one fails it). */
type WebAuthnAssertion = z.infer<typeof WebAuthnResponseSchema>;

export interface SecondFactorProof {
  method: SecondFactorMethod;
  code?: string | undefined;
  credential?: WebAuthnAssertion | undefined;
}

interface Proven {
  methods: AuthMethod[];
  recoveryCodesRemaining?: number;
}

const INVALID_TOKEN = "The mfa_token is invalid, expired or already used; sign in with the password again.";
const INVALID_PROOF = "The code or passkey response is not valid.";

function invalidMfaToken(): ProblemError {
  return new ProblemError("invalid_mfa_token", { detail: INVALID_TOKEN });
}

/** Verifies a passkey assertion by one of `userId`'s credentials (any user's when null) and records its use. */
async function provePasskey(deps: AuthDeps, userId: string | null, credential: WebAuthnAssertion, challenge: string): Promise<{ userId: string; method: "hwk" | "swk" } | null> {
  const row = await deps.db.select().from(webauthnCredentials).where(eq(webauthnCredentials.credentialId, credential.id)).get();
  if (!row || (userId !== null && row.userId !== userId)) return null;
  // A discoverable credential names its user; it must be the credential's owner.
  const handle = credential.response.userHandle;
  if (handle && handle !== base64Url(new TextEncoder().encode(row.userId))) return null;
  const verified = await verifyAssertion(deps.config, credential as unknown as AuthenticationResponseJSON, challenge, storedCredential(row));
  if (!verified) return null;
  await deps.db
    .update(webauthnCredentials)
    .set({ signCount: verified.newCounter, backedUp: verified.backedUp, deviceType: verified.deviceType, lastUsedAt: deps.now })
    .where(eq(webauthnCredentials.id, row.id))
    .run();
  return { userId: row.userId, method: passkeyMethod(verified.deviceType) };
}

/**
 * Checks a proof for `userId`. `challenge` is the WebAuthn challenge issued for this attempt;
 * it is cleared before the assertion is checked, so it answers one assertion only.
 */
async function proveFactor(deps: AuthDeps, userId: string, proof: SecondFactorProof, challenge: { rowId: string; value: string | null }): Promise<Proven | null> {
  if (proof.method === "totp") return (await useTotpCode(deps, userId, proof.code ?? "")) ? { methods: ["otp"] } : null;
  if (proof.method === "recovery_code") {
    const remaining = await useRecoveryCode(deps, userId, proof.code ?? "");
    return remaining === null ? null : { methods: ["otp"], recoveryCodesRemaining: remaining };
  }
  if (!challenge.value || !proof.credential || challengeOf(proof.credential) !== challenge.value) return null;
  const cleared = await deps.db.update(mfaChallenges).set({ challenge: null }).where(and(eq(mfaChallenges.id, challenge.rowId), eq(mfaChallenges.challenge, challenge.value))).run();
  if (cleared.meta.changes !== 1) return null;
  const passkey = await provePasskey(deps, userId, proof.credential, challenge.value);
  return passkey ? { methods: [passkey.method] } : null;
}

async function failed(deps: AuthDeps, userId: string, method: SecondFactorMethod, context: "login" | "step_up"): Promise<never> {
  await recordAudit(deps.db, deps.actor, { action: "mfa.verify_failed", actorUserId: null, targetType: "user", targetId: userId, changes: { method, context } });
  throw new ProblemError("invalid_mfa_code", { detail: INVALID_PROOF });
}

async function afterRecoveryCode(deps: AuthDeps, userId: string, sessionId: string | null, remaining: number): Promise<void> {
  await recordAudit(deps.db, deps.actor, { action: "mfa.recovery_code_used", actorUserId: userId, sessionId, targetType: "user", targetId: userId, changes: { remaining } });
  const user = await deps.db.select({ email: users.email }).from(users).where(eq(users.id, userId)).get();
  if (user) deps.mail({ to: user.email, ...mfaChangedEmail("recovery_code_used", buildLink(deps.config, "/account/security")) });
}

/** The user a live mfa_token belongs to (for the per-account limiter), or undefined. */
export async function userOfMfaToken(deps: AuthDeps, token: string): Promise<string | undefined> {
  return (await findChallenge(deps, "login", token))?.userId ?? undefined;
}

/** WebAuthn request options for the second step of a login; the challenge is bound to the mfa_token. */
export async function loginPasskeyOptions(deps: AuthDeps, token: string) {
  const row = await findChallenge(deps, "login", token);
  if (!row?.userId) throw invalidMfaToken();
  const credentials = await credentialsOf(deps, row.userId);
  if (credentials.length === 0) throw new ProblemError("conflict", { detail: "This account has no passkey; use another method." });
  const options = await authenticationOptions(deps.config, credentials.map(storedCredential));
  if (!(await attachChallenge(deps, row.id, options.challenge))) throw invalidMfaToken();
  return options;
}

/** Completes a login with its mfa_token and a second factor: a session at aal2 and a device token. */
export async function verifyLoginSecondFactor(deps: AuthDeps, token: string, proof: SecondFactorProof) {
  const row = await findChallenge(deps, "login", token);
  if (!row?.userId) throw invalidMfaToken();
  const user = await deps.db.select().from(users).where(eq(users.id, row.userId)).get();
  if (!user) throw invalidMfaToken();
  assertAccountCanSignIn(deps.config, user);
  const proven = await proveFactor(deps, user.id, proof, { rowId: row.id, value: row.challenge });
  if (!proven) return failed(deps, user.id, proof.method, "login");

  const firstFactor = parseMethods(row.amr) as AuthMethod[];
  const amr = [...new Set<AuthMethod>([...firstFactor, ...proven.methods, "mfa"])];
  // One batch claims the mfa_token and starts the session, only if the token is still unused and
  // the account is as the password check saw it: a reset, disable or delete meanwhile wins.
  const stillValid = [...claimInBatch(deps, row.id, LOGIN_GUARD), signInStillValid(deps, { id: user.id, passwordChangedAt: row.passwordChangedAt ?? user.passwordChangedAt })];
  const pair = await guarded(LOGIN_GUARD, () => startSession(deps, user.id, stillValid, [], { acr: "aal2", amr, mfaMethods: proven.methods }), invalidMfaToken);
  const signedIn = { ...pair, device_token: await issueDeviceToken(deps.config, user.email, deps.now) };
  if (proven.recoveryCodesRemaining === undefined) return signedIn;
  await afterRecoveryCode(deps, user.id, null, proven.recoveryCodesRemaining);
  return { ...signedIn, recovery_code_used: true, recovery_codes_remaining: proven.recoveryCodesRemaining };
}

/** Options for a passwordless sign-in with a discoverable passkey; the challenge is the handle. */
export async function passkeySignInOptions(deps: AuthDeps) {
  const options = await authenticationOptions(deps.config, []);
  await deps.db.insert(mfaChallenges).values(await challengeRow(deps, "passkey_login", options.challenge, { challenge: options.challenge })).run();
  return options;
}

/**
 * Passwordless sign-in: a user-verified passkey is possession and inherence (or knowledge) at
 * once, so the session is aal2 with amr [hwk|swk, user].
 */
export async function passkeySignIn(deps: AuthDeps, credential: WebAuthnAssertion) {
  const challenge = challengeOf(credential);
  const row = challenge ? await findChallenge(deps, "passkey_login", challenge) : null;
  // The challenge is used up before the assertion is checked: one try per challenge.
  if (!row || !(await claimChallenge(deps, row.id))) throw new ProblemError("invalid_mfa_code", { detail: INVALID_PROOF });
  const proven = await provePasskey(deps, null, credential, row.challenge!);
  if (!proven) {
    await recordAudit(deps.db, deps.actor, { action: "mfa.verify_failed", actorUserId: null, targetType: "passkey", targetId: null, changes: { method: "webauthn", context: "passwordless" } });
    throw new ProblemError("invalid_mfa_code", { detail: INVALID_PROOF });
  }
  const user = await deps.db.select().from(users).where(eq(users.id, proven.userId)).get();
  if (!user) throw new ProblemError("invalid_mfa_code", { detail: INVALID_PROOF });
  assertAccountCanSignIn(deps.config, user);
  // The account must still be as just read when the session is written (a disable or delete meanwhile wins).
  const pair = await guarded(
    LOGIN_GUARD,
    () => startSession(deps, user.id, [signInStillValid(deps, user)], [], { acr: "aal2", amr: [proven.method, "user"], mfaMethods: [proven.method] }),
    () => new ProblemError("invalid_mfa_code", { detail: INVALID_PROOF }),
  );
  return { ...pair, device_token: await issueDeviceToken(deps.config, user.email, deps.now) };
}

/** WebAuthn options for a step-up, bound to the caller's session. */
export async function stepUpPasskeyOptions(deps: AuthDeps, principal: { userId: string; sessionId: string }) {
  const credentials = await credentialsOf(deps, principal.userId);
  if (credentials.length === 0) throw new ProblemError("conflict", { detail: "This account has no passkey; use another method." });
  const options = await authenticationOptions(deps.config, credentials.map(storedCredential));
  const row = await challengeRow(deps, "step_up", options.challenge, { userId: principal.userId, sessionId: principal.sessionId, challenge: options.challenge });
  await deps.db.insert(mfaChallenges).values(row).run();
  return options;
}

/**
 * Raises the caller's session to aal2 for MFA_STEP_UP_WINDOW: records the proof's time on the
 * session and returns an access token that carries it.
 */
export async function stepUp(deps: AuthDeps, principal: { userId: string; sessionId: string }, proof: SecondFactorProof) {
  let challenge: { rowId: string; value: string | null } = { rowId: "", value: null };
  if (proof.method === "webauthn" && proof.credential) {
    const handle = challengeOf(proof.credential);
    const row = handle ? await findChallenge(deps, "step_up", handle) : null;
    if (row && row.sessionId === principal.sessionId) challenge = { rowId: row.id, value: row.challenge };
  }
  const proven = await proveFactor(deps, principal.userId, proof, challenge);
  if (!proven) return failed(deps, principal.userId, proof.method, "step_up");
  if (challenge.rowId) await claimChallenge(deps, challenge.rowId);

  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "mfa.step_up", actorUserId: principal.userId, sessionId: principal.sessionId, targetType: "user", targetId: principal.userId, changes: { methods: proven.methods } }],
    () => [provenOnSession(deps, principal.sessionId, proven.methods)],
    deps.now,
  );
  if (proven.recoveryCodesRemaining !== undefined) await afterRecoveryCode(deps, principal.userId, principal.sessionId, proven.recoveryCodesRemaining);
  const session = await deps.db.select().from(sessions).where(eq(sessions.id, principal.sessionId)).get();
  if (!session) throw new ProblemError("unauthorized");
  const window = deps.config.MFA_STEP_UP_WINDOW;
  const assurance = currentAssurance(
    { acr: session.acr, amr: parseMethods(session.amr), authTime: session.authTime ?? session.createdAt, mfaVerifiedAt: session.mfaVerifiedAt, mfaMethods: parseMethods(session.mfaMethods) },
    deps.now,
    window,
  );
  const access = await sessionAccessToken(deps, principal.userId, principal.sessionId, assurance);
  return { access_token: access.token, token_type: "Bearer" as const, expires_in: access.expiresIn, acr: "aal2" as const, step_up_expires_in: window };
}
