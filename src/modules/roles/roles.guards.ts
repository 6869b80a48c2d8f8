import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { ProblemError, type ValidationIssue } from "../../lib/problem";

/**
 * The rules that keep role administration from being a way up or a way out (docs/rbac.md):
 * - a caller grants only permissions it holds, and assigns only roles whose permissions it holds;
 * - a caller changes only users and roles whose permissions it holds (no acting on a superior);
 * - nobody changes their own roles;
 * - no change leaves the system without an active holder of the `admin` role or of `roles:assign`.
 */

/** Who is acting: the permissions are the ones loaded from D1 for this very request. */
export interface Caller {
  userId: string;
  /** Null when the caller authenticated with an API key. */
  sessionId: string | null;
  permissions: ReadonlySet<string>;
}

/** The role whose holders are the administrators; it always carries every permission. */
export const ADMIN_ROLE = "admin";
/** Whoever holds this can repair role assignments, so someone must always hold it. */
export const ASSIGN_PERMISSION = "roles:assign";

/**
 * Throws 403 `escalation_denied` unless the caller holds every permission in `needed`.
 * `what` completes "... needs permissions you do not hold".
 */
export function assertHolds(caller: Caller, needed: Iterable<string>, what: string): void {
  const missing = [...new Set(needed)].filter((permission) => !caller.permissions.has(permission)).sort();
  if (missing.length > 0) {
    throw new ProblemError("escalation_denied", {
      detail: `${what} needs permissions you do not hold: ${missing.join(", ")}.`,
      extensions: { missing_permissions: missing },
    });
  }
}

/** A user's effective permissions right now (empty when the user does not exist). */
export async function permissionsOfUser(db: Database, userId: string): Promise<string[]> {
  const rows = await db.all<{ name: string }>(sql`
    select distinct p.name from user_roles ur
    join role_permissions rp on rp.role_id = ur.role_id
    join permissions p on p.id = rp.permission_id
    where ur.user_id = ${userId} order by p.name`);
  return rows.map((row) => row.name);
}

export interface ResolvedRole {
  id: string;
  name: string;
  isSystem: boolean;
  permissions: string[];
}

interface RoleRow {
  id: string;
  name: string;
  is_system: number;
  permissions: string;
}

/**
 * Looks up roles by name (case-insensitively) with their permissions. Unknown names are a 422
 * naming each of them at `path.<index>`, never silently dropped.
 */
export async function resolveRoles(db: Database, names: readonly string[], path: string): Promise<ResolvedRole[]> {
  const wanted = [...new Set(names.map((name) => name.toLowerCase()))];
  if (wanted.length === 0) return [];
  const rows = await db.all<RoleRow>(sql`
    select r.id, r.name, r.is_system,
      (select json_group_array(p.name) from role_permissions rp join permissions p on p.id = rp.permission_id where rp.role_id = r.id) as permissions
    from roles r where lower(r.name) in (select value from json_each(${JSON.stringify(wanted)}))`);
  const found = new Map(rows.map((row) => [row.name.toLowerCase(), row]));
  assertAllKnown(names, (name) => found.has(name.toLowerCase()), path, "role");
  return rows.map((row) => ({ id: row.id, name: row.name, isSystem: row.is_system === 1, permissions: JSON.parse(row.permissions) as string[] }));
}

/** Looks up permissions by name (case-insensitively); unknown names are a 422 naming each. */
export async function resolvePermissions(db: Database, names: readonly string[], path: string): Promise<{ id: string; name: string }[]> {
  const wanted = [...new Set(names.map((name) => name.toLowerCase()))];
  if (wanted.length === 0) return [];
  const rows = await db.all<{ id: string; name: string }>(sql`
    select id, name from permissions where lower(name) in (select value from json_each(${JSON.stringify(wanted)}))`);
  const found = new Set(rows.map((row) => row.name.toLowerCase()));
  assertAllKnown(names, (name) => found.has(name.toLowerCase()), path, "permission");
  return rows;
}

function assertAllKnown(names: readonly string[], known: (name: string) => boolean, path: string, kind: string): void {
  const errors: ValidationIssue[] = [];
  const unknown: string[] = [];
  names.forEach((name, index) => {
    if (known(name)) return;
    unknown.push(name);
    errors.push({ path: `${path}.${index}`, message: `unknown ${kind} "${name.slice(0, 128)}"` });
  });
  if (unknown.length > 0) {
    throw new ProblemError("validation_failed", {
      detail: `Unknown ${kind}${unknown.length > 1 ? "s" : ""}: ${unknown.map((name) => name.slice(0, 128)).join(", ")}.`,
      errors,
      extensions: { [`unknown_${kind}s`]: unknown },
    });
  }
}

/*
 * "Active" means able to sign in and act: enabled, approved and verified. Counting strictly can
 * only make the guard refuse more often, never let the last real administrator go.
 *
 * The texts are fixed SQL with literal constants and no bound parameters: drizzle's D1 batch can
 * only carry raw statements that have none.
 */
const ACTIVE_USER = "u.is_active = 1 and u.is_approved = 1 and u.email_verified_at is not null";

const ADMIN_HOLDERS = `(select count(distinct u.id) from users u
  join user_roles ur on ur.user_id = u.id join roles r on r.id = ur.role_id
  where r.name = '${ADMIN_ROLE}' and ${ACTIVE_USER})`;

const ASSIGN_HOLDERS = `(select count(distinct u.id) from users u
  join user_roles ur on ur.user_id = u.id
  join role_permissions rp on rp.role_id = ur.role_id join permissions p on p.id = rp.permission_id
  where p.name = '${ASSIGN_PERMISSION}' and ${ACTIVE_USER})`;

/*
 * The marker is raised from inside the D1 batch (an invalid JSON path is the one SQL error whose
 * message carries our own text), so the check and the change are one transaction: two admins
 * demoting each other at the same moment cannot both succeed.
 */
const MARKER = { admin: "last_holder_guard:admin", assign: "last_holder_guard:roles_assign" } as const;

const abortWhenNone = (holders: string, marker: string) => sql.raw(`select case when ${holders} = 0 then json_extract('{}', '${marker}') end`);

/**
 * Statements to append to an admin write's batch: each aborts the batch when the write leaves no
 * active holder of the admin role (or of roles:assign). Only invariants that hold now are
 * guarded, so a database that never had an administrator (a fresh test database) is not frozen.
 */
export async function lastHolderGuards(db: Database): Promise<BatchItem<"sqlite">[]> {
  const counts = await db.get<{ admins: number; assigners: number }>(sql.raw(`select ${ADMIN_HOLDERS} as admins, ${ASSIGN_HOLDERS} as assigners`));
  const guards: BatchItem<"sqlite">[] = [];
  if ((counts?.admins ?? 0) > 0) guards.push(db.run(abortWhenNone(ADMIN_HOLDERS, MARKER.admin)));
  if ((counts?.assigners ?? 0) > 0) guards.push(db.run(abortWhenNone(ASSIGN_HOLDERS, MARKER.assign)));
  return guards;
}

/** Runs an admin write; a tripped last-holder guard becomes a 409 `last_admin` problem. */
export async function withLastHolderGuard<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const text = `${error instanceof Error ? error.message : ""} ${error instanceof Error && error.cause instanceof Error ? error.cause.message : ""}`;
    if (text.includes(MARKER.admin)) {
      throw new ProblemError("last_admin", { detail: `This would leave no active user with the ${ADMIN_ROLE} role.` });
    }
    if (text.includes(MARKER.assign)) {
      throw new ProblemError("last_admin", { detail: `This would leave no active user with the ${ASSIGN_PERMISSION} permission.` });
    }
    throw error;
  }
}
