import { USER_ACCESS_COLUMNS } from "../../db/access-sql";
import type { Config } from "../../config";
import { InvalidTokenError, verifyAccessToken } from "../../lib/jwt";
import { sha256Hex } from "../../lib/tokens";
import { PRINCIPAL_SQL, parseRoleRows } from "../../lib/principal";
import { looksLikeApiKey } from "../api-keys/api-keys.crypto";
import { revokeApiKey } from "../api-keys/api-keys.service";
import { lookupApiKey } from "../api-keys/api-keys.verify";
import type { AuthDeps } from "../auth/auth.context";
import { endSessions, logoutByRefreshToken } from "../auth/session.service";
import type { AuthorizationServerMetadata, Introspection } from "./oauth.schemas";

const INACTIVE: Introspection = { active: false };
const REFRESH_TOKEN_PREFIX = "rt_";
const seconds = (ms: number) => Math.floor(ms / 1000);

/** RFC 8414 metadata: only endpoints and methods this service really has. */
export async function authorizationServerMetadata(config: Config): Promise<AuthorizationServerMetadata> {
  const base = config.PUBLIC_BASE_URL;
  const algorithms = [...new Set(config.JWT_SIGNING_KEYS.map((key) => (key.kty === "OKP" ? "EdDSA" : "ES256") as "EdDSA" | "ES256"))];
  return {
    issuer: config.JWT_ISSUER ?? base,
    jwks_uri: `${base}/.well-known/jwks.json`,
    introspection_endpoint: `${base}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: ["bearer"],
    revocation_endpoint: `${base}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: ["none"],
    response_types_supported: [],
    grant_types_supported: [],
    service_documentation: `${base}/docs`,
    access_token_signing_alg_values_supported: algorithms,
    access_token_type: "at+jwt",
    access_token_audience: config.JWT_AUDIENCE,
    access_token_claims_supported: ["iss", "aud", "sub", "sid", "jti", "iat", "exp", ...config.ACCESS_TOKEN_CLAIMS],
    login_endpoint: `${base}/api/v1/auth/login`,
    refresh_endpoint: `${base}/api/v1/auth/refresh`,
  };
}

interface SubjectRow {
  user_id: string;
  is_active: number;
  roles: string;
  permissions: string;
}

interface RefreshRow extends SubjectRow {
  session_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  ended_at: number | null;
  session_expires_at: number;
}

/* One read: the refresh token, its session, the user's state and current roles and permissions. */
const REFRESH_SQL = `
select t.session_id, t.created_at, t.expires_at, t.used_at, s.ended_at, s.expires_at as session_expires_at, u.id as user_id, u.is_active, ${USER_ACCESS_COLUMNS}
from refresh_tokens t join sessions s on s.id = t.session_id join users u on u.id = s.user_id
where t.token_hash = ?1`;

const sorted = (json: string) => (JSON.parse(json) as string[]).sort();

async function introspectAccessToken(deps: Pick<AuthDeps, "db" | "config" | "now">, token: string): Promise<Introspection> {
  let claims;
  try {
    claims = await verifyAccessToken(deps.config, token, deps.now);
  } catch (error) {
    if (error instanceof InvalidTokenError) return INACTIVE;
    throw error;
  }
  const row = await deps.db.$client
    .prepare(PRINCIPAL_SQL)
    .bind(claims.sid, claims.sub)
    .first<Omit<SubjectRow, "roles"> & { role_rows: string; ended_at: number | null; expires_at: number }>();
  if (!row || row.ended_at !== null || row.expires_at <= deps.now || row.is_active !== 1) return INACTIVE;
  return {
    active: true,
    token_use: "access_token",
    token_type: "Bearer",
    sub: claims.sub,
    sid: claims.sid,
    exp: claims.exp,
    iat: claims.iat,
    iss: deps.config.JWT_ISSUER ?? deps.config.PUBLIC_BASE_URL,
    aud: deps.config.JWT_AUDIENCE,
    roles: parseRoleRows(row.role_rows).roles,
    permissions: sorted(row.permissions),
    // What the token was issued with: a resource server can require aal2 without decoding the JWT.
    ...(claims.acr === "aal1" || claims.acr === "aal2" ? { acr: claims.acr } : {}),
    ...(claims.amr ? { amr: claims.amr } : {}),
    ...(claims.auth_time !== undefined ? { auth_time: claims.auth_time } : {}),
  };
}

async function introspectRefreshToken(deps: Pick<AuthDeps, "db" | "config" | "now">, token: string): Promise<Introspection> {
  const row = await deps.db.$client.prepare(REFRESH_SQL).bind(await sha256Hex(token)).first<RefreshRow>();
  if (!row || row.used_at !== null || row.ended_at !== null || row.expires_at <= deps.now || row.session_expires_at <= deps.now || row.is_active !== 1) {
    return INACTIVE;
  }
  return {
    active: true,
    token_use: "refresh_token",
    sub: row.user_id,
    sid: row.session_id,
    exp: seconds(row.expires_at),
    iat: seconds(row.created_at),
    iss: deps.config.JWT_ISSUER ?? deps.config.PUBLIC_BASE_URL,
    aud: deps.config.JWT_AUDIENCE,
    roles: sorted(row.roles),
    permissions: sorted(row.permissions),
  };
}

/**
 * RFC 7662: what a token may do right now, read from D1 (so an ended session, a disabled owner, a
 * removed role or a revoked key shows at once). Anything not currently valid is `{active:false}`
 * and nothing else: the answer never says why.
 */
export async function introspect(deps: Pick<AuthDeps, "db" | "config" | "now">, token: string): Promise<Introspection> {
  if (looksLikeApiKey(token)) {
    const found = await lookupApiKey(deps.db.$client, deps.config, token, deps.now);
    if (found.state !== "active") return INACTIVE;
    return {
      active: true,
      token_use: "api_key",
      token_type: "Bearer",
      sub: found.record.owner_id,
      client_id: found.record.id,
      scope: found.scopes.join(" "),
      exp: seconds(found.record.expires_at),
      iat: seconds(found.record.created_at),
      iss: deps.config.JWT_ISSUER ?? deps.config.PUBLIC_BASE_URL,
      aud: deps.config.JWT_AUDIENCE,
      roles: found.roles,
      permissions: found.permissions,
    };
  }
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) return introspectRefreshToken(deps, token);
  if (token.split(".").length === 3) return introspectAccessToken(deps, token);
  return INACTIVE;
}

/**
 * RFC 7009: possession is the credential. A refresh token or an access token ends its session
 * (with every token of it); an API key revokes itself. Unknown or already invalid tokens change
 * nothing, and the caller cannot tell the difference.
 */
export async function revokeToken(deps: AuthDeps, token: string): Promise<void> {
  if (looksLikeApiKey(token)) {
    const found = await lookupApiKey(deps.db.$client, deps.config, token, deps.now);
    if (found.state !== "unknown") await revokeApiKey(deps, null, found.record.id, "revoked_by_possession");
    return;
  }
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) return logoutByRefreshToken(deps, token);
  if (token.split(".").length !== 3) return;
  let claims;
  try {
    claims = await verifyAccessToken(deps.config, token, deps.now);
  } catch (error) {
    if (error instanceof InvalidTokenError) return;
    throw error;
  }
  // An ended session records nothing more: a replayed revocation must not grow the audit log.
  const live = await deps.db.$client.prepare("select 1 from sessions where id = ?1 and user_id = ?2 and ended_at is null").bind(claims.sid, claims.sub).first();
  if (!live) return;
  await endSessions(deps, { userId: claims.sub, sessionId: claims.sid }, "access_token_revoked", {
    action: "session.ended",
    actorUserId: claims.sub,
    sessionId: claims.sid,
    targetType: "session",
    targetId: claims.sid,
  });
}
