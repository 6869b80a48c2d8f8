import { and, eq, isNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { emailTokens, roles, userRoles, users } from "../../db/schema";
import type { Config } from "../../config";
import { recordAudit, writeWithAudit } from "../../lib/audit";
import { recordMetric } from "../../lib/metrics/recorder";
import { abortUnless, guarded } from "../../lib/batch-guard";
import { normalizeEmail } from "../../lib/email";
import { newId } from "../../lib/ids";
import { describeTtl, emailLink, registrationAttemptEmail, verificationEmail } from "../../lib/mail";
import { hashPassword, verifyAgainstDummy, verifyPassword, type Argon2Params } from "../../lib/password";
import { checkPassword } from "../../lib/password-policy";
import { timingPadding } from "../../lib/password-timing";
import { DEFAULT_ROLE } from "../../lib/permissions";
import { ProblemError } from "../../lib/problem";
import { randomToken, sha256Hex } from "../../lib/tokens";
import { beginSecondFactor, type MfaRequired } from "../mfa/login-challenge";
import { factorCounts, hasSecondFactor, methodsOf } from "../mfa/mfa.state";
import type { AuthDeps } from "./auth.context";
import { startSession, type TokenPair } from "./session.service";

export function argon2Params(config: Config): Argon2Params {
  return { memoryKib: config.ARGON2_MEMORY_KIB, iterations: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM };
}

/** Rejects a password that breaks the policy with a 422 naming the field. */
export function assertPasswordPolicy(config: Config, password: string, email: string, field: string): void {
  const problems = checkPassword(password, { minLength: config.PASSWORD_MIN_LENGTH, email });
  if (problems.length > 0) {
    throw new ProblemError("validation_failed", {
      detail: "The password does not meet the policy; see `errors`.",
      errors: problems.map((message) => ({ path: `body.${field}`, message })),
    });
  }
}

/** A new single-use emailed token (stored hashed) and the row that records it. */
export async function newEmailToken(deps: Pick<AuthDeps, "now">, userId: string, purpose: "verify_email" | "password_reset", ttlSeconds: number) {
  const token = randomToken(32);
  const row = { id: newId(deps.now), userId, purpose, tokenHash: await sha256Hex(token), createdAt: deps.now, expiresAt: deps.now + ttlSeconds * 1000 };
  return { token, row };
}

/** The names every account form carries (registration and the admin's create-user). */
export interface NewUserNames {
  first_name: string;
  last_name: string;
  middle_name?: string | null | undefined;
  role_title?: string | null | undefined;
}

/** A new, active users row; the caller decides verification and approval. */
export function newUserRow(
  id: string,
  email: string,
  passwordHash: string,
  names: NewUserNames,
  state: { emailVerifiedAt: number | null; isApproved: boolean },
  now: number,
): typeof users.$inferInsert {
  return {
    id,
    email,
    passwordHash,
    firstName: names.first_name,
    middleName: names.middle_name ?? null,
    lastName: names.last_name,
    roleTitle: names.role_title ?? null,
    emailVerifiedAt: state.emailVerifiedAt,
    isActive: true,
    isApproved: state.isApproved,
    passwordChangedAt: now,
    createdAt: now,
    updatedAt: now,
  };
}

/** True for the unique-index violation of a second account with the same normalized email. */
export function isDuplicateEmailError(error: unknown): boolean {
  return error instanceof Error && /UNIQUE constraint failed: users\.email/.test(`${error.message} ${String(error.cause)}`);
}

export interface RegisterInput extends NewUserNames {
  email: string;
  password: string;
}

/**
 * Registers an account without revealing whether the address is taken: the caller always gets
 * the same 202 after the same work (the policy check and one password hash). Everything that
 * depends on whether the address is taken (the lookups, the inserts, the email) runs after the
 * response, so neither its timing nor its outcome shows in it. A new address gets the default
 * role and a verification email; a taken one gets a "someone tried to register" email instead.
 */
export async function register(deps: AuthDeps, input: RegisterInput): Promise<void> {
  const email = normalizeEmail(input.email);
  assertPasswordPolicy(deps.config, input.password, email, "password");
  const passwordHash = await hashPassword(input.password, argon2Params(deps.config));
  deps.defer(() => createRegisteredAccount(deps, email, passwordHash, input));
}

async function createRegisteredAccount(deps: AuthDeps, email: string, passwordHash: string, input: RegisterInput): Promise<void> {
  const existing = await deps.db.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (existing) {
    notifyRegistrationAttempt(deps, email);
    return;
  }
  const defaultRole = await deps.db.select({ id: roles.id }).from(roles).where(eq(roles.name, DEFAULT_ROLE)).get();
  if (!defaultRole) throw new Error(`the default role "${DEFAULT_ROLE}" is missing: migrations not applied?`);

  const userId = newId(deps.now);
  const verification = await newEmailToken(deps, userId, "verify_email", deps.config.EMAIL_VERIFICATION_TTL);
  try {
    await writeWithAudit(
      deps.db,
      { ...deps.actor, userId },
      [{ action: "user.registered", actorUserId: userId, targetType: "user", targetId: userId, changes: { roles: [DEFAULT_ROLE] } }],
      () => [
        deps.db.insert(users).values(newUserRow(userId, email, passwordHash, input, { emailVerifiedAt: null, isApproved: !deps.config.REQUIRE_APPROVAL }, deps.now)),
        deps.db.insert(userRoles).values({ userId, roleId: defaultRole.id, createdAt: deps.now }),
        deps.db.insert(emailTokens).values(verification.row),
      ],
      deps.now,
    );
  } catch (error) {
    // Two registrations of one address raced; the loser's address gets the same notice.
    if (isDuplicateEmailError(error)) {
      notifyRegistrationAttempt(deps, email);
      return;
    }
    throw error;
  }
  sendVerification(deps, email, verification.token);
}

function notifyRegistrationAttempt(deps: AuthDeps, email: string): void {
  deps.mail({ to: email, ...registrationAttemptEmail(emailLink(deps.config, "sign_in"), emailLink(deps.config, "forgot_password")) });
}

function sendVerification(deps: AuthDeps, email: string, token: string): void {
  deps.mail({ to: email, ...verificationEmail(emailLink(deps.config, "verify_email", token), describeTtl(deps.config.EMAIL_VERIFICATION_TTL)) });
}

const INVALID_EMAIL_TOKEN = "The token is invalid, expired or already used.";

/** Finds a live (unused, unexpired) emailed token without using it up. */
export async function findEmailToken(deps: AuthDeps, token: string, purpose: "verify_email" | "password_reset"): Promise<{ id: string; userId: string }> {
  const row = await deps.db
    .select({ id: emailTokens.id, userId: emailTokens.userId, expiresAt: emailTokens.expiresAt })
    .from(emailTokens)
    .where(and(eq(emailTokens.tokenHash, await sha256Hex(token)), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)))
    .get();
  if (!row || row.expiresAt <= deps.now) throw new ProblemError("invalid_token", { detail: INVALID_EMAIL_TOKEN });
  return { id: row.id, userId: row.userId };
}

const EMAIL_TOKEN_GUARD = "email_token_used";

/**
 * The statements that use up a token found by `findEmailToken`, for the batch that makes the
 * change: a guard (the token is still unused and unexpired) and the conditional update. Claimed in
 * the same transaction as the change, so a token works once even under concurrent requests, and a
 * batch that fails leaves the token usable (nothing was changed either).
 */
export function claimEmailTokenStatements(deps: AuthDeps, tokenId: string): BatchItem<"sqlite">[] {
  return [
    abortUnless(deps.db, sql`exists (select 1 from ${emailTokens} where ${emailTokens.id} = ${tokenId} and ${emailTokens.usedAt} is null and ${emailTokens.expiresAt} > ${deps.now})`, EMAIL_TOKEN_GUARD),
    deps.db.update(emailTokens).set({ usedAt: deps.now }).where(and(eq(emailTokens.id, tokenId), isNull(emailTokens.usedAt))),
  ];
}

/** Runs a batch that claims an emailed token; a token used meanwhile becomes the same 400 as an unknown one. */
export function withEmailTokenClaim<T>(write: () => Promise<T>): Promise<T> {
  return guarded(EMAIL_TOKEN_GUARD, write, () => new ProblemError("invalid_token", { detail: INVALID_EMAIL_TOKEN }));
}

/** Marks the address of the token's user verified; the token is used up in the same batch. */
export async function verifyEmail(deps: AuthDeps, token: string): Promise<void> {
  const { id: tokenId, userId } = await findEmailToken(deps, token, "verify_email");
  await withEmailTokenClaim(() =>
    writeWithAudit(
      deps.db,
      deps.actor,
      [{ action: "user.email_verified", actorUserId: userId, targetType: "user", targetId: userId }],
      () => [
        ...claimEmailTokenStatements(deps, tokenId),
        deps.db.update(users).set({ emailVerifiedAt: deps.now, updatedAt: deps.now }).where(and(eq(users.id, userId), isNull(users.emailVerifiedAt))),
      ],
      deps.now,
    ),
  );
}

/**
 * Sends a fresh verification email when the address belongs to an unverified account; silent
 * otherwise. Runs after the response so that its timing is the same for every address.
 */
export function resendVerification(deps: AuthDeps, rawEmail: string): void {
  const email = normalizeEmail(rawEmail);
  deps.defer(() => resendVerificationNow(deps, email));
}

async function resendVerificationNow(deps: AuthDeps, email: string): Promise<void> {
  const user = await deps.db.select({ id: users.id, verifiedAt: users.emailVerifiedAt }).from(users).where(eq(users.email, email)).get();
  if (!user || user.verifiedAt !== null) return;
  const verification = await newEmailToken(deps, user.id, "verify_email", deps.config.EMAIL_VERIFICATION_TTL);
  // Earlier verification links keep working until they expire; only the newest is mailed.
  await deps.db.insert(emailTokens).values(verification.row).run();
  sendVerification(deps, email, verification.token);
}

type SignInRefusal = "account_disabled" | "email_not_verified" | "account_not_approved";

/** A refused password login as its problem, counted by outcome in /metrics. */
function loginRefused(code: "invalid_credentials" | SignInRefusal, detail: string): ProblemError {
  recordMetric("edge_auth_logins_total", { outcome: code });
  return new ProblemError(code, { detail });
}

/**
 * Checks credentials. Unknown emails and wrong passwords get the same 401 after the same amount
 * of hashing; account-state problems (disabled, unverified, unapproved) are revealed only to a
 * caller who proved the password.
 */
export async function login(deps: AuthDeps, rawEmail: string, password: string): Promise<TokenPair | MfaRequired> {
  const email = normalizeEmail(rawEmail);
  const params = argon2Params(deps.config);
  const found = await deps.db.select().from(users).where(eq(users.email, email)).get();
  // Service accounts never log in: they are answered exactly like an unknown email.
  const user = found?.kind === "human" ? found : undefined;
  const verdict = user ? await verifyPassword(password, user.passwordHash, params) : await verifyAgainstDummy(password, params);
  // A stored hash cheaper than the current parameters (not yet upgraded) is topped up to their
  // cost, so that such an account cannot be told from an unknown email by its speed.
  const padding = user ? timingPadding(user.passwordHash, params) : null;
  if (padding) await verifyAgainstDummy(password, padding);
  if (!user || !verdict.ok) {
    await recordAudit(deps.db, deps.actor, {
      action: "user.login_failed",
      actorUserId: null,
      targetType: found ? "user" : null,
      targetId: found?.id ?? null,
      changes: { reason: user ? "wrong_password" : found ? "service_account" : "unknown_email" },
    });
    throw loginRefused("invalid_credentials", "The email or password is incorrect.");
  }
  assertAccountCanSignIn(deps.config, user, loginRefused);
  // The session (or the pending second factor) is created only if nothing that the checks above
  // relied on changed while the password was being hashed: a reset, change, disable or delete in
  // that window wins, and this login loses like a wrong password. The rehash never overwrites a
  // hash that changed meanwhile.
  const stillValid = signInStillValid(deps, user);
  const rehash = verdict.needsRehash
    ? [
        deps.db
          .update(users)
          .set({ passwordHash: await hashPassword(password, params), updatedAt: deps.now })
          .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash))),
      ]
    : [];
  // An account with a second factor gets no tokens yet (docs/mfa.md), whatever the client sends
  // (a device token only changes which failure counter a password attempt uses).
  const factors = await factorCounts(deps.db.$client, user.id);
  if (hasSecondFactor(factors)) {
    recordMetric("edge_auth_logins_total", { outcome: "mfa_required" });
    return guarded(LOGIN_GUARD, () => beginSecondFactor(deps, user, methodsOf(factors), [stillValid, ...rehash]), invalidCredentials);
  }
  recordMetric("edge_auth_logins_total", { outcome: "succeeded" });
  return guarded(LOGIN_GUARD, () => startSession(deps, user.id, [stillValid, ...rehash]), invalidCredentials);
}

export const LOGIN_GUARD = "login_state_changed";

export function invalidCredentials(): ProblemError {
  return new ProblemError("invalid_credentials", { detail: "The email or password is incorrect." });
}

/**
 * A batch guard: the account is still as a sign-in that began now saw it (same password, active,
 * verified and approved as configured). `passwordChangedAt` is the value the first factor saw.
 */
export function signInStillValid(deps: AuthDeps, user: Pick<typeof users.$inferSelect, "id" | "passwordChangedAt">): BatchItem<"sqlite"> {
  return abortUnless(
    deps.db,
    sql`exists (select 1 from ${users} where ${users.id} = ${user.id} and ${users.passwordChangedAt} = ${user.passwordChangedAt} and ${users.isActive} = 1
      and (${deps.config.REQUIRE_EMAIL_VERIFICATION ? 1 : 0} = 0 or ${users.emailVerifiedAt} is not null)
      and (${deps.config.REQUIRE_APPROVAL ? 1 : 0} = 0 or ${users.isApproved} = 1))`,
    LOGIN_GUARD,
  );
}

/**
 * Account states that stop a sign-in whose credentials were right (password or passkey):
 * revealed only to a caller who proved them.
 */
export function assertAccountCanSignIn(
  config: Config,
  user: Pick<typeof users.$inferSelect, "isActive" | "emailVerifiedAt" | "isApproved">,
  refuse: (code: SignInRefusal, detail: string) => ProblemError = (code, detail) => new ProblemError(code, { detail }),
): void {
  if (!user.isActive) throw refuse("account_disabled", "This account is disabled.");
  if (config.REQUIRE_EMAIL_VERIFICATION && user.emailVerifiedAt === null) {
    throw refuse("email_not_verified", "Verify your email address first; POST /api/v1/auth/resend-verification sends a new link.");
  }
  if (config.REQUIRE_APPROVAL && !user.isApproved) {
    throw refuse("account_not_approved", "An administrator has not approved this account yet.");
  }
}
