import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import { apiKeys, users } from "../../db/schema";
import { writeWithAudit } from "../../lib/audit";
import { assertConfigMax } from "../../lib/config-bounds";
import { newId } from "../../lib/ids";
import { decodeCursor, toPage } from "../../lib/pagination";
import { ProblemError } from "../../lib/problem";
import type { Principal } from "../../middleware/auth";
import type { AuthDeps } from "../auth/auth.context";
import { assertHolds, permissionsOfUser, resolvePermissions } from "../roles/roles.guards";
import { hashApiKey, newApiKeySecret } from "./api-keys.crypto";
import type { ApiKey, CreateApiKeyInput, ListApiKeysQuery } from "./api-keys.schemas";

type ApiKeyRow = typeof apiKeys.$inferSelect;
const MANAGE = "api_keys:manage";
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API shape of a key row (never the hash). */
export function apiKeyFields(row: ApiKeyRow, now: number): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    owner_id: row.ownerId,
    scopes: JSON.parse(row.scopes) as string[],
    created_by: row.createdBy,
    created_at: iso(row.createdAt)!,
    expires_at: iso(row.expiresAt)!,
    revoked_at: iso(row.revokedAt),
    rotated_from: row.rotatedFrom,
    last_used_at: iso(row.lastUsedAt),
    last_used_ip: row.lastUsedIp,
    active: row.revokedAt === null && row.expiresAt > now,
  };
}

/**
 * Keys manage keys only from a login: a leaked key must not be able to mint a longer-lived or
 * broader successor, or revoke its owner's other keys.
 */
function assertSessionCaller(caller: Principal): void {
  if (caller.apiKeyId) {
    throw new ProblemError("forbidden", { detail: "API keys cannot manage API keys; sign in with a session." });
  }
}

/** Acting on another owner's keys needs api_keys:manage. */
function assertMayActFor(caller: Principal, ownerId: string): void {
  if (ownerId !== caller.userId && !caller.permissions.has(MANAGE)) {
    throw new ProblemError("forbidden", {
      detail: `Other owners' API keys need the permission ${MANAGE}.`,
      extensions: { missing_permissions: [MANAGE] },
    });
  }
}

/**
 * Creates a key for the caller (or, with api_keys:manage, for another user or service account).
 * Scopes must exist (422), be held by the caller (403 `escalation_denied`) and by the owner (422).
 * Returns the key with its secret, which is never stored or shown again.
 */
export async function createApiKey(deps: AuthDeps, caller: Principal, input: CreateApiKeyInput): Promise<ApiKey & { key: string }> {
  assertSessionCaller(caller);
  const ownerId = input.owner_id ?? caller.userId;
  assertMayActFor(caller, ownerId);
  const owner = await deps.db.select({ id: users.id, isActive: users.isActive }).from(users).where(eq(users.id, ownerId)).get();
  if (!owner) throw new ProblemError("not_found", { detail: "No such user or service account." });
  if (!owner.isActive) throw new ProblemError("conflict", { detail: "The owner is disabled; enable it before creating keys." });

  const scopes = [...new Set((await resolvePermissions(deps.db, input.scopes, "body.scopes")).map((permission) => permission.name))].sort();
  assertHolds(caller, scopes, "A key with these scopes");
  if (ownerId !== caller.userId) {
    const owned = new Set(await permissionsOfUser(deps.db, ownerId));
    const missing = scopes.filter((scope) => !owned.has(scope));
    if (missing.length > 0) {
      throw new ProblemError("validation_failed", {
        detail: `The owner does not hold: ${missing.join(", ")}.`,
        errors: missing.map((scope) => ({ path: `body.scopes.${input.scopes.indexOf(scope)}`, message: `the owner does not hold "${scope}"` })),
      });
    }
  }
  const ttl = input.expires_in ?? deps.config.API_KEY_DEFAULT_TTL;
  assertConfigMax(deps.config, "API_KEY_MAX_TTL", ttl, "body.expires_in");

  const { secret, prefix } = newApiKeySecret();
  const row: ApiKeyRow = {
    id: newId(deps.now),
    ownerId,
    name: input.name,
    prefix,
    keyHash: await hashApiKey(deps.config, secret),
    scopes: JSON.stringify(scopes),
    createdBy: caller.userId,
    createdAt: deps.now,
    expiresAt: deps.now + ttl * 1000,
    revokedAt: null,
    rotatedFrom: null,
    lastUsedAt: null,
    lastUsedIp: null,
  };
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "api_key.created", sessionId: caller.sessionId, targetType: "api_key", targetId: row.id, changes: { owner_id: ownerId, name: row.name, prefix, scopes, expires_at: iso(row.expiresAt) } }],
    () => [deps.db.insert(apiKeys).values(row)],
    deps.now,
  );
  return { ...apiKeyFields(row, deps.now), key: secret };
}

const KeyCursor = z.tuple([z.number().int(), z.uuid()]);

/** One owner's keys, newest first (revoked and expired ones too, marked `active: false`). */
export async function listApiKeys(deps: Pick<AuthDeps, "db" | "now">, caller: Principal, query: ListApiKeysQuery) {
  const ownerId = query.owner_id ?? caller.userId;
  assertMayActFor(caller, ownerId);
  const after = decodeCursor(query.cursor, KeyCursor);
  const rows = await deps.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.ownerId, ownerId), after ? or(lt(apiKeys.createdAt, after[0]), and(eq(apiKeys.createdAt, after[0]), lt(apiKeys.id, after[1]))) : undefined))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(query.limit + 1)
    .all();
  return toPage(rows, query.limit, (row) => [row.createdAt, row.id], (row) => apiKeyFields(row, deps.now));
}

/** A key the caller may see: their own, or any with api_keys:manage; 404 otherwise (no existence oracle). */
async function requireKey(deps: Pick<AuthDeps, "db">, caller: Principal, id: string): Promise<ApiKeyRow> {
  const row = await deps.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  if (!row || (row.ownerId !== caller.userId && !caller.permissions.has(MANAGE))) throw new ProblemError("not_found", { detail: "No such API key." });
  return row;
}

export async function getApiKey(deps: Pick<AuthDeps, "db" | "now">, caller: Principal, id: string): Promise<ApiKey> {
  return apiKeyFields(await requireKey(deps, caller, id), deps.now);
}

/** Revokes a key at once (idempotent: revoking a revoked key changes nothing and records nothing). */
export async function revokeApiKey(deps: AuthDeps, caller: Principal | null, id: string, reason = "revoked"): Promise<void> {
  const row = caller ? await requireKey(deps, caller, id) : await deps.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  if (!row || row.revokedAt !== null) return;
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "api_key.revoked", sessionId: caller?.sessionId ?? null, targetType: "api_key", targetId: row.id, changes: { owner_id: row.ownerId, reason } }],
    () => [deps.db.update(apiKeys).set({ revokedAt: deps.now }).where(and(eq(apiKeys.id, row.id), isNull(apiKeys.revokedAt)))],
    deps.now,
  );
}

/**
 * Replaces a live key by a new secret with the same owner, name, scopes and lifetime length. The
 * old key keeps working for `overlapSeconds` (0: stops at once), so deployments can switch over.
 */
export async function rotateApiKey(deps: AuthDeps, caller: Principal, id: string, overlapSeconds = 0): Promise<ApiKey & { key: string }> {
  assertSessionCaller(caller);
  assertConfigMax(deps.config, "API_KEY_MAX_ROTATION_OVERLAP", overlapSeconds, "body.overlap_seconds");
  const old = await requireKey(deps, caller, id);
  if (old.revokedAt !== null || old.expiresAt <= deps.now) throw new ProblemError("conflict", { detail: "Only a live key can be rotated; create a new one." });
  const lifetime = Math.min(old.expiresAt - old.createdAt, deps.config.API_KEY_MAX_TTL * 1000);
  const { secret, prefix } = newApiKeySecret();
  const row: ApiKeyRow = {
    ...old,
    id: newId(deps.now),
    prefix,
    keyHash: await hashApiKey(deps.config, secret),
    createdBy: caller.userId,
    createdAt: deps.now,
    expiresAt: deps.now + lifetime,
    rotatedFrom: old.id,
    lastUsedAt: null,
    lastUsedIp: null,
  };
  const oldEnds = Math.min(old.expiresAt, deps.now + overlapSeconds * 1000);
  await writeWithAudit(
    deps.db,
    deps.actor,
    [
      {
        action: "api_key.rotated",
        sessionId: caller.sessionId,
        targetType: "api_key",
        targetId: old.id,
        changes: { owner_id: old.ownerId, new_key_id: row.id, new_prefix: prefix, old_key_expires_at: iso(oldEnds), overlap_seconds: overlapSeconds },
      },
    ],
    () => [deps.db.insert(apiKeys).values(row), deps.db.update(apiKeys).set({ expiresAt: oldEnds }).where(eq(apiKeys.id, old.id))],
    deps.now,
  );
  return { ...apiKeyFields(row, deps.now), key: secret };
}
