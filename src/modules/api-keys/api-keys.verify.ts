import type { Context } from "hono";
import { PRINCIPAL_ACCESS_COLUMNS } from "../../db/access-sql";
import { createDb } from "../../db/client";
import type { AppEnv } from "../../bindings";
import type { Config } from "../../config";
import { recordAudit } from "../../lib/audit";
import { clientIp } from "../../lib/client-ip";
import { accountOf, parseRoleRows, type RoleAiLimits } from "../../lib/principal";
import type { Principal } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { API_KEY_PREFIX, hashApiKey, looksLikeApiKey } from "./api-keys.crypto";

/** How often at most the last-used time and IP of one key are written (and a revoked key's use audited). */
export const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiKeyRecord {
  id: string;
  owner_id: string;
  name: string;
  scopes: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  email: string;
  is_active: number;
  first_name: string;
  middle_name: string | null;
  last_name: string;
  role_title: string | null;
  email_verified_at: number | null;
  is_approved: number;
  user_created_at: number;
  role_rows: string;
  permissions: string;
}

/*
 * One read by the unique index on key_hash answers everything: the key, its owner's state and the
 * owner's current roles and permissions. Demoting or disabling the owner therefore shrinks or
 * stops every key on the very next request.
 */
const API_KEY_SQL = `
select k.id, k.owner_id, k.name, k.scopes, k.created_at, k.expires_at, k.revoked_at, k.last_used_at, u.email, u.is_active,
  u.first_name, u.middle_name, u.last_name, u.role_title, u.email_verified_at, u.is_approved, u.created_at as user_created_at, ${PRINCIPAL_ACCESS_COLUMNS}
from api_keys k join users u on u.id = k.owner_id
where k.key_hash = ?1`;

export type ApiKeyLookup =
  | { state: "active"; record: ApiKeyRecord; roles: string[]; aiLimits: RoleAiLimits[]; permissions: string[]; scopes: string[] }
  | { state: "revoked" | "expired" | "owner_disabled"; record: ApiKeyRecord }
  | { state: "unknown" };

/** Finds a presented key and says whether it may act now; `permissions` are scopes ∩ the owner's. */
export async function lookupApiKey(db: D1Database, config: Config, secret: string, now = Date.now()): Promise<ApiKeyLookup> {
  if (!looksLikeApiKey(secret)) return { state: "unknown" };
  const record = await db.prepare(API_KEY_SQL).bind(await hashApiKey(config, secret)).first<ApiKeyRecord>();
  if (!record) return { state: "unknown" };
  if (record.revoked_at !== null) return { state: "revoked", record };
  if (record.expires_at <= now) return { state: "expired", record };
  if (record.is_active !== 1) return { state: "owner_disabled", record };
  const owned = new Set(JSON.parse(record.permissions) as string[]);
  const scopes = JSON.parse(record.scopes) as string[];
  return {
    state: "active",
    record,
    ...parseRoleRows(record.role_rows),
    permissions: scopes.filter((scope) => owned.has(scope)).sort(),
    scopes,
  };
}

/** The API key in `Authorization: Bearer eak_…`, or null when the request carries none. */
export function presentedApiKey(c: Context<AppEnv>): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
  return match?.[1]?.startsWith(API_KEY_PREFIX) ? match[1] : null;
}

export type ApiKeyResult = { ok: true; principal: Principal } | { ok: false; reason: string };

const results = new WeakMap<Request, Promise<ApiKeyResult>>();
/** Per isolate: when a revoked key's use was last audited, so a replaying client cannot flood the log. */
const refusedUseLogged = new Map<string, number>();

/**
 * Authenticates the request's API key once per request (the anonymous rate limit and the auth
 * guard both ask). Side effects run after the response (waitUntil), never on the critical path:
 * the last-used time and IP (at most once a minute per key) and the audit of a revoked key's use.
 */
export function resolveApiKey(c: Context<AppEnv>, secret: string): Promise<ApiKeyResult> {
  let result = results.get(c.req.raw);
  if (!result) {
    result = authenticateApiKey(c, secret);
    results.set(c.req.raw, result);
  }
  return result;
}

async function authenticateApiKey(c: Context<AppEnv>, secret: string): Promise<ApiKeyResult> {
  const now = Date.now();
  const found = await lookupApiKey(c.env.DB, c.get("config"), secret, now);
  if (found.state === "unknown") return { ok: false, reason: "unknown api key" };
  const ip = clientIp(c.req.raw);
  if (found.state === "revoked") {
    const last = refusedUseLogged.get(found.record.id) ?? 0;
    if (now - last >= LAST_USED_RESOLUTION_MS) {
      refusedUseLogged.set(found.record.id, now);
      afterResponse(c, () =>
        recordAudit(createDb(c.env.DB), { ip, userAgent: c.req.header("User-Agent") ?? null, requestId: c.get("requestId") }, {
          action: "api_key.used_after_revoke",
          actorUserId: null,
          targetType: "api_key",
          targetId: found.record.id,
          changes: { owner_id: found.record.owner_id, revoked_at: new Date(found.record.revoked_at!).toISOString() },
        }),
      );
    }
    return { ok: false, reason: "revoked api key" };
  }
  if (found.state !== "active") return { ok: false, reason: found.state === "expired" ? "expired api key" : "api key owner disabled" };
  const { record } = found;
  if (record.last_used_at === null || now - record.last_used_at >= LAST_USED_RESOLUTION_MS) {
    afterResponse(c, async () => {
      // Conditional, so concurrent requests of one key write at most one row a minute.
      await c.env.DB.prepare("update api_keys set last_used_at = ?1, last_used_ip = ?2 where id = ?3 and (last_used_at is null or last_used_at <= ?4)")
        .bind(now, ip, record.id, now - LAST_USED_RESOLUTION_MS)
        .run();
    });
  }
  return {
    ok: true,
    principal: {
      userId: record.owner_id,
      sessionId: null,
      tokenId: record.id,
      apiKeyId: record.id,
      email: record.email,
      roles: found.roles,
      aiLimits: found.aiLimits,
      permissions: new Set(found.permissions),
      account: accountOf({ ...record, created_at: record.user_created_at }),
    },
  };
}

function afterResponse(c: Context<AppEnv>, task: () => Promise<unknown>): void {
  authDeps(c).defer(async () => {
    await task();
  });
}
