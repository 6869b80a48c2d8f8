import { and, asc, eq, gt, or, sql, type SQL } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import { files, roles, sessions, userRoles, users } from "../../db/schema";
import { writeWithAudit, type AuditEvent } from "../../lib/audit";
import { normalizeEmail } from "../../lib/email";
import { newId } from "../../lib/ids";
import { decodeCursor, toPage } from "../../lib/pagination";
import { hashPassword } from "../../lib/password";
import { DEFAULT_ROLE } from "../../lib/permissions";
import { ProblemError } from "../../lib/problem";
import type { AuthDeps } from "../auth/auth.context";
import { argon2Params, assertPasswordPolicy, isDuplicateEmailError, newUserRow } from "../auth/auth.service";
import { endSessions, listSessions } from "../auth/session.service";
import { assertHolds, lastHolderGuards, resolveRoles, withLastHolderGuard, type Caller } from "../roles/roles.guards";
import type { CreateUserInput, ListUsersQuery, UpdateUserInput, UserSummary } from "./users.admin.schemas";
import type { Profile } from "./users.schemas";
import { getProfile, userFields } from "./users.service";

const UserCursor = z.tuple([z.number().int(), z.uuid()]);

/** LIKE treats % and _ as wildcards; a search for "a_b" must mean those three characters. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

/** Users ordered by (created_at, id), filtered as the query says, one page at a time. */
export async function listUsers(db: Database, query: ListUsersQuery) {
  const after = decodeCursor(query.cursor, UserCursor);
  const filters: SQL[] = [];
  if (query.q) {
    const pattern = `${escapeLike(query.q.toLowerCase())}%`;
    filters.push(
      sql`(${users.email} like ${pattern} escape '\\' or lower(${users.firstName}) like ${pattern} escape '\\' or lower(${users.lastName}) like ${pattern} escape '\\')`,
    );
  }
  if (query.role !== undefined) {
    const role = await db.select({ id: roles.id }).from(roles).where(sql`lower(${roles.name}) = ${query.role.toLowerCase()}`).get();
    if (!role) {
      throw new ProblemError("validation_failed", {
        detail: `Unknown role: ${query.role}.`,
        errors: [{ path: "query.role", message: `unknown role "${query.role}"` }],
      });
    }
    filters.push(sql`exists (select 1 from user_roles ur where ur.user_id = ${users.id} and ur.role_id = ${role.id})`);
  }
  // Service accounts are listed at /service-accounts, not among the people.
  filters.push(eq(users.kind, "human"));
  if (query.is_active !== undefined) filters.push(eq(users.isActive, query.is_active));
  if (query.is_approved !== undefined) filters.push(eq(users.isApproved, query.is_approved));
  if (after) filters.push(or(gt(users.createdAt, after[0]), and(eq(users.createdAt, after[0]), gt(users.id, after[1])))!);

  const rows = await db
    .select({
      user: users,
      roles: sql<string>`(select json_group_array(r.name) from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = "users"."id")`,
    })
    .from(users)
    .where(and(...filters))
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(query.limit + 1)
    .all();
  return toPage(rows, query.limit, (row) => [row.user.createdAt, row.user.id], ({ user, roles: roleNames }): UserSummary => ({
    ...userFields(user),
    roles: (JSON.parse(roleNames) as string[]).sort(),
  }));
}

/** The profile of `userId` or a 404. */
export async function requireUser(db: Database, userId: string): Promise<Profile> {
  const profile = await getProfile(db, userId);
  if (!profile) throw new ProblemError("not_found", { detail: "No such user." });
  return profile;
}

/**
 * Creates a verified, approved account with the given roles (the default role when none are
 * given). The caller must hold every permission of those roles.
 */
export async function createUser(deps: AuthDeps, caller: Caller, input: CreateUserInput): Promise<Profile> {
  const email = normalizeEmail(input.email);
  assertPasswordPolicy(deps.config, input.password, email, "password");
  const assigned = await resolveRoles(deps.db, input.roles ?? [DEFAULT_ROLE], "body.roles");
  assertHolds(caller, assigned.flatMap((role) => role.permissions), "Assigning these roles");
  const taken = () => new ProblemError("already_exists", { detail: "An account with this email already exists." });
  if (await deps.db.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) throw taken();

  const passwordHash = await hashPassword(input.password, argon2Params(deps.config));
  const userId = newId(deps.now);
  const row = newUserRow(userId, email, passwordHash, input, { emailVerifiedAt: deps.now, isApproved: true }, deps.now);
  const after = {
    email,
    first_name: row.firstName,
    middle_name: row.middleName,
    last_name: row.lastName,
    role_title: row.roleTitle,
    roles: assigned.map((role) => role.name).sort(),
    email_verified: true,
    is_active: true,
    is_approved: true,
  };
  try {
    await writeWithAudit(
      deps.db,
      deps.actor,
      [{ action: "user.created", sessionId: caller.sessionId, targetType: "user", targetId: userId, changes: { before: null, after } }],
      () => [
        deps.db.insert(users).values(row),
        ...assigned.map((role) => deps.db.insert(userRoles).values({ userId, roleId: role.id, createdAt: deps.now })),
      ],
      deps.now,
    );
  } catch (error) {
    if (isDuplicateEmailError(error)) throw taken();
    throw error;
  }
  return requireUser(deps.db, userId);
}

const EDITABLE = [
  ["first_name", "firstName"],
  ["middle_name", "middleName"],
  ["last_name", "lastName"],
  ["role_title", "roleTitle"],
  ["is_active", "isActive"],
  ["is_approved", "isApproved"],
] as const;

/**
 * Changes names and flags. Disabling an account or withdrawing its approval ends all its sessions
 * in the same batch as the update and its audit event, and may not remove the last administrator.
 */
export async function updateUser(deps: AuthDeps, caller: Caller, userId: string, input: UpdateUserInput): Promise<Profile> {
  const before = await requireUser(deps.db, userId);
  assertHolds(caller, before.permissions, "Changing this user");
  const set: Partial<typeof users.$inferInsert> = { updatedAt: deps.now };
  const diff: Record<string, { before: unknown; after: unknown }> = {};
  for (const [field, column] of EDITABLE) {
    const value = input[field];
    if (value === undefined || value === before[field]) continue;
    (set as Record<string, unknown>)[column] = value;
    diff[field] = { before: before[field], after: value };
  }
  if (Object.keys(diff).length === 0) return before;

  const update = deps.db.update(users).set(set).where(eq(users.id, userId));
  const event: AuditEvent = { action: "user.updated", sessionId: caller.sessionId, targetType: "user", targetId: userId, changes: diff };
  const lockedOut = input.is_active === false || input.is_approved === false;
  if (lockedOut) {
    const guards = await lastHolderGuards(deps.db);
    const reason = input.is_active === false ? "user_disabled" : "approval_withdrawn";
    await withLastHolderGuard(() => endSessions(deps, { userId }, reason, event, [update, ...guards]));
  } else {
    await writeWithAudit(deps.db, deps.actor, [event], () => [update], deps.now);
  }
  return requireUser(deps.db, userId);
}

/**
 * Deletes the account; D1 cascades its sessions, refresh and email tokens, role assignments and
 * file rows. The audit event keeps the id and a snapshot (no secrets). The R2 objects are the
 * caller's to remove afterwards (they are not part of the D1 transaction).
 */
export async function deleteUser(deps: AuthDeps, caller: Caller, userId: string): Promise<void> {
  const before = await requireUser(deps.db, userId);
  assertHolds(caller, before.permissions, "Deleting this user");
  const owned = await deps.db.get<{ sessions: number; files: number }>(
    sql`select (select count(*) from ${sessions} where ${sessions.userId} = ${userId} and ${sessions.endedAt} is null) as sessions,
               (select count(*) from ${files} where ${files.ownerId} = ${userId}) as files`,
  );
  const { permissions: _permissions, ...snapshot } = before;
  const guards = await lastHolderGuards(deps.db);
  await withLastHolderGuard(() =>
    writeWithAudit(
      deps.db,
      deps.actor,
      [
        {
          action: "user.deleted",
          sessionId: caller.sessionId,
          targetType: "user",
          targetId: userId,
          changes: { before: snapshot, after: null, sessions_ended: owned?.sessions ?? 0, files_deleted: owned?.files ?? 0 },
        },
      ],
      () => [deps.db.delete(users).where(eq(users.id, userId)), ...guards],
      deps.now,
    ),
  );
}

/**
 * Replaces a user's roles. Nobody changes their own; the caller must hold every permission the
 * user holds now and every permission of the new roles; the last administrator stays one.
 */
export async function replaceUserRoles(deps: AuthDeps, caller: Caller, userId: string, names: string[]): Promise<Profile> {
  return changeUserRoles(deps, caller, userId, () => names, "user.roles_replaced", "body.roles");
}

/**
 * Gives one role to a user (no change when it is already held), with the same guards as
 * replacing the whole set. An unknown role name is a 404: it is part of the path.
 */
export async function addUserRole(deps: AuthDeps, caller: Caller, userId: string, role: string): Promise<Profile> {
  const [resolved] = await resolvePathRole(deps, role);
  return changeUserRoles(deps, caller, userId, (current) => [...current, resolved.name], "user.role_added", "path.role");
}

/** Takes one role from a user (no change when it is not held), with the same guards as replacing the set. */
export async function removeUserRole(deps: AuthDeps, caller: Caller, userId: string, role: string): Promise<Profile> {
  const [resolved] = await resolvePathRole(deps, role);
  return changeUserRoles(deps, caller, userId, (current) => current.filter((name) => name.toLowerCase() !== resolved.name.toLowerCase()), "user.role_removed", "path.role");
}

async function resolvePathRole(deps: AuthDeps, role: string) {
  try {
    return (await resolveRoles(deps.db, [role], "path.role")) as [Awaited<ReturnType<typeof resolveRoles>>[number]];
  } catch (error) {
    if (error instanceof ProblemError && error.code === "validation_failed") throw new ProblemError("not_found", { detail: `No role named ${role.slice(0, 64)}.` });
    throw error;
  }
}

/**
 * The one place user roles change. Nobody changes their own; the caller must hold every
 * permission the user holds now and every permission of the resulting roles; the last
 * administrator stays one (the guard runs inside the write's batch).
 */
async function changeUserRoles(
  deps: AuthDeps,
  caller: Caller,
  userId: string,
  next: (current: readonly string[]) => string[],
  action: "user.roles_replaced" | "user.role_added" | "user.role_removed",
  path: string,
): Promise<Profile> {
  if (userId === caller.userId) {
    throw new ProblemError("self_role_change", { detail: "You cannot change your own roles; ask another administrator." });
  }
  const before = await requireUser(deps.db, userId);
  const assigned = await resolveRoles(deps.db, next(before.roles), path);
  assertHolds(caller, before.permissions, "Changing this user's roles");
  assertHolds(caller, assigned.flatMap((role) => role.permissions), "Assigning these roles");
  const after = assigned.map((role) => role.name).sort();
  if (after.join("\n") === before.roles.join("\n")) return before;

  const guards = await lastHolderGuards(deps.db);
  await withLastHolderGuard(() =>
    writeWithAudit(
      deps.db,
      deps.actor,
      [{ action, sessionId: caller.sessionId, targetType: "user", targetId: userId, changes: { before: before.roles, after } }],
      () => [
        deps.db.delete(userRoles).where(eq(userRoles.userId, userId)),
        ...assigned.map((role) => deps.db.insert(userRoles).values({ userId, roleId: role.id, createdAt: deps.now })),
        ...guards,
      ],
      deps.now,
    ),
  );
  return requireUser(deps.db, userId);
}

/** Another user's live sessions (404 when there is no such user). */
export async function listUserSessions(deps: AuthDeps, caller: Caller, userId: string) {
  await requireUser(deps.db, userId);
  return listSessions(deps, userId, caller.sessionId);
}

/** Ends every session of a user (404 when there is no such user); returns how many ended. */
export async function endUserSessions(deps: AuthDeps, caller: Caller, userId: string): Promise<number> {
  await requireUser(deps.db, userId);
  return endSessions(deps, { userId }, "revoked_by_admin", {
    action: "user.sessions_revoked",
    sessionId: caller.sessionId,
    targetType: "user",
    targetId: userId,
  });
}
