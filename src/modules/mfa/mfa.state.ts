/**
 * What the rest of the service asks about a user's second factors, in one indexed read each:
 * which methods a login can offer, and whether a session has a fresh second factor.
 */
import type { Context } from "hono";
import type { AppEnv } from "../../bindings";

export type SecondFactorMethod = "totp" | "webauthn" | "recovery_code";

export interface FactorCounts {
  totp: boolean;
  passkeys: number;
  recoveryCodes: number;
}

const FACTORS_SQL = `
select
  exists(select 1 from totp_factors where user_id = ?1 and confirmed_at is not null) as totp,
  (select count(*) from webauthn_credentials where user_id = ?1) as passkeys,
  (select count(*) from recovery_codes where user_id = ?1 and used_at is null) as recovery_codes`;

/** The user's confirmed factors and unused recovery codes. */
export async function factorCounts(db: D1Database, userId: string): Promise<FactorCounts> {
  const row = await db.prepare(FACTORS_SQL).bind(userId).first<{ totp: number; passkeys: number; recovery_codes: number }>();
  return { totp: row?.totp === 1, passkeys: row?.passkeys ?? 0, recoveryCodes: row?.recovery_codes ?? 0 };
}

/** True when the user can prove a second factor (a confirmed TOTP app or a passkey). */
export function hasSecondFactor(counts: FactorCounts): boolean {
  return counts.totp || counts.passkeys > 0;
}

/** The methods a login of this user can be completed with, in the order a client should offer them. */
export function methodsOf(counts: FactorCounts): SecondFactorMethod[] {
  if (!hasSecondFactor(counts)) return [];
  const methods: SecondFactorMethod[] = [];
  if (counts.passkeys > 0) methods.push("webauthn");
  if (counts.totp) methods.push("totp");
  if (counts.recoveryCodes > 0) methods.push("recovery_code");
  return methods;
}

export interface SessionFactorState {
  hasFactor: boolean;
  mfaVerifiedAt: number | null;
  /** A service account: it cannot enroll (it never signs in), so the enrollment policy spares it. */
  isService: boolean;
}

const SESSION_STATE_SQL = `
select s.mfa_verified_at, u.kind = 'service' as is_service,
  exists(select 1 from totp_factors where user_id = s.user_id and confirmed_at is not null)
  or exists(select 1 from webauthn_credentials where user_id = s.user_id) as has_factor
from sessions s join users u on u.id = s.user_id where s.id = ?1`;

// An API key has no session: its owner's factors, and never a fresh proof.
const KEY_OWNER_STATE_SQL = `
select null as mfa_verified_at, u.kind = 'service' as is_service,
  exists(select 1 from totp_factors where user_id = u.id and confirmed_at is not null)
  or exists(select 1 from webauthn_credentials where user_id = u.id) as has_factor
from users u where u.id = ?1`;

const callerStates = new WeakMap<Request, Promise<SessionFactorState>>();

/**
 * Whether the caller's account has a second factor and when its session last proved one (never,
 * for an API key); read once per request (the enrollment policy and the assurance guard may both ask).
 */
export function callerFactorState(c: Context<AppEnv>, caller: { userId: string; sessionId: string | null }): Promise<SessionFactorState> {
  let state = callerStates.get(c.req.raw);
  if (!state) {
    const statement = caller.sessionId === null ? c.env.DB.prepare(KEY_OWNER_STATE_SQL).bind(caller.userId) : c.env.DB.prepare(SESSION_STATE_SQL).bind(caller.sessionId);
    state = statement
      .first<{ mfa_verified_at: number | null; has_factor: number; is_service: number }>()
      .then((row) => ({ hasFactor: row?.has_factor === 1, mfaVerifiedAt: row?.mfa_verified_at ?? null, isService: row?.is_service === 1 }));
    callerStates.set(c.req.raw, state);
  }
  return state;
}
