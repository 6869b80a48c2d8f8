import { PRINCIPAL_ACCESS_COLUMNS } from "../db/access-sql";

/**
 * The verified caller and how it is loaded. Types only depend on nothing here, so `bindings.ts`, the
 * middleware and the modules can all import them without an import cycle.
 *
 * A principal is resolved from a credential (today: an access token's session; an API key can add
 * its own resolver returning the same shape).
 */

/** The caller's account fields the API shows (`GET /users/me`), read with the principal. */
export interface PrincipalAccount {
  firstName: string;
  middleName: string | null;
  lastName: string;
  roleTitle: string | null;
  emailVerified: boolean;
  isApproved: boolean;
  createdAt: number;
}

/** One role's AI policy fields (null: unlimited); the gateway combines them (ai.budget.ts). */
export interface RoleAiLimits {
  role: string;
  dailyTokens: number | null;
  monthlyCostMicroUsd: number | null;
}

/** The verified caller, loaded fresh from D1 on every request. */
export interface Principal {
  userId: string;
  /** The session of an access token; null for an API key. */
  sessionId: string | null;
  /** The access token's jti, or the API key's id. */
  tokenId: string;
  /** Set when the caller authenticated with an API key: permissions are its scopes ∩ the owner's. */
  apiKeyId: string | null;
  email: string;
  /** Role names, sorted. */
  roles: string[];
  permissions: Set<string>;
  /** Every role's AI limits, by role name, read in the same query as the roles. */
  aiLimits: RoleAiLimits[];
  account: PrincipalAccount;
}

/** The users columns behind `PrincipalAccount`, as D1 returns them (`created_at` is the user's). */
export interface AccountColumns {
  first_name: string;
  middle_name: string | null;
  last_name: string;
  role_title: string | null;
  email_verified_at: number | null;
  is_approved: number;
  created_at: number;
}

/** The account fields of a principal from its users row; one mapping for every kind of credential. */
export function accountOf(row: AccountColumns): PrincipalAccount {
  return {
    firstName: row.first_name,
    middleName: row.middle_name,
    lastName: row.last_name,
    roleTitle: row.role_title,
    emailVerified: row.email_verified_at !== null,
    isApproved: row.is_approved === 1,
    createdAt: row.created_at,
  };
}

interface PrincipalRow extends AccountColumns {
  user_id: string;
  email: string;
  is_active: number;
  ended_at: number | null;
  expires_at: number;
  role_rows: string;
  permissions: string;
}

/** The `role_rows` column of PRINCIPAL_ACCESS_COLUMNS: role names, sorted, and their AI limits. */
export function parseRoleRows(json: string): { roles: string[]; aiLimits: RoleAiLimits[] } {
  const rows = (JSON.parse(json) as Array<[string, number | null, number | null]>).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    roles: rows.map(([role]) => role),
    aiLimits: rows.map(([role, dailyTokens, monthlyCostMicroUsd]) => ({ role, dailyTokens, monthlyCostMicroUsd })),
  };
}

/*
 * One indexed read answers everything the request path needs: the session is live (not ended,
 * not past its absolute lifetime), the user still exists and is active, the user's current roles
 * and permissions with each role's AI limits, and the profile fields, so neither `GET /users/me`
 * nor the AI gateway needs a second query.
 */
export const PRINCIPAL_SQL = `
select u.id as user_id, u.email, u.is_active, s.ended_at, s.expires_at,
  u.first_name, u.middle_name, u.last_name, u.role_title, u.email_verified_at, u.is_approved, u.created_at,
  ${PRINCIPAL_ACCESS_COLUMNS}
from sessions s join users u on u.id = s.user_id
where s.id = ?1 and s.user_id = ?2`;

/** What a verified access token names. */
export interface SessionClaims {
  sub: string;
  sid: string;
  jti: string;
}

/**
 * The principal of a verified access token, or null when its session has ended or expired or its
 * user is gone or disabled. `db` may be a D1 session (read replication): the caller picks its
 * consistency.
 *
 * @example
 * const principal = await loadSessionPrincipal(c.env.DB.withSession(bookmark), claims);
 */
export async function loadSessionPrincipal(db: Pick<D1Database, "prepare">, claims: SessionClaims, now = Date.now()): Promise<Principal | null> {
  const row = await db.prepare(PRINCIPAL_SQL).bind(claims.sid, claims.sub).first<PrincipalRow>();
  if (!row || row.ended_at !== null || row.expires_at <= now || row.is_active !== 1) return null;
  return {
    userId: row.user_id,
    sessionId: claims.sid,
    tokenId: claims.jti,
    apiKeyId: null,
    email: row.email,
    ...parseRoleRows(row.role_rows),
    permissions: new Set(JSON.parse(row.permissions) as string[]),
    account: accountOf(row),
  };
}
