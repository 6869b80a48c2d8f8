import { eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { users } from "../../db/schema";
import { writeWithAudit, type AuditActor } from "../../lib/audit";
import type { Principal } from "../../lib/principal";
import { ProblemError } from "../../lib/problem";
import type { Profile, ProfileChanges } from "./users.schemas";

interface RoleAndPermissionRow {
  roles: string;
  permissions: string;
}

const ACCESS_SQL = `select
   (select json_group_array(name) from (select r.name from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = ?1 order by r.name)) as roles,
   (select json_group_array(name) from (select distinct p.name from user_roles ur
      join role_permissions rp on rp.role_id = ur.role_id
      join permissions p on p.id = rp.permission_id
    where ur.user_id = ?1 order by p.name)) as permissions`;

/** Roles and permissions the request already loaded (the auth guard reads them on every request). */
export interface KnownAccess {
  roles: readonly string[];
  permissions: Iterable<string>;
}

/**
 * A user's profile with current roles and effective permissions, or null when there is no such
 * user. Pass `known` when the caller's access was just loaded, to save the second query.
 */
export async function getProfile(db: Database, userId: string, known?: KnownAccess): Promise<Profile | null> {
  const [user, access] = await Promise.all([
    db.select().from(users).where(eq(users.id, userId)).get(),
    known
      ? Promise.resolve({ roles: [...known.roles].sort(), permissions: [...known.permissions].sort() })
      : db.$client
          .prepare(ACCESS_SQL)
          .bind(userId)
          .first<RoleAndPermissionRow>()
          .then((row) => ({ roles: JSON.parse(row?.roles ?? "[]") as string[], permissions: JSON.parse(row?.permissions ?? "[]") as string[] })),
  ]);
  if (!user) return null;
  return { ...userFields(user), roles: access.roles, permissions: access.permissions };
}

/** The caller's profile from what the auth guard loaded (src/lib/principal.ts), sorted like getProfile. */
export function profileOfPrincipal(principal: Principal): Profile {
  const { account } = principal;
  return {
    id: principal.userId,
    email: principal.email,
    first_name: account.firstName,
    middle_name: account.middleName,
    last_name: account.lastName,
    role_title: account.roleTitle,
    email_verified: account.emailVerified,
    // The guard admits only active users.
    is_active: true,
    is_approved: account.isApproved,
    created_at: new Date(account.createdAt).toISOString(),
    roles: [...principal.roles].sort(),
    permissions: [...principal.permissions].sort(),
  };
}

/** The API shape of a users row, shared by the profile and the admin list. */
export function userFields(user: typeof users.$inferSelect) {
  return {
    id: user.id,
    email: user.email,
    first_name: user.firstName,
    middle_name: user.middleName,
    last_name: user.lastName,
    role_title: user.roleTitle,
    email_verified: user.emailVerifiedAt !== null,
    is_active: user.isActive,
    is_approved: user.isApproved,
    created_at: new Date(user.createdAt).toISOString(),
  };
}

/** Updates names and title; records before/after in the audit log in the same batch. */
export async function updateProfileNames(db: Database, actor: AuditActor, userId: string, changes: ProfileChanges, now = Date.now()): Promise<Profile> {
  const before = await getProfile(db, userId);
  if (!before) throw new ProblemError("not_found", { detail: "No such user." });
  const set: Partial<typeof users.$inferInsert> = { updatedAt: now };
  const diff: Record<string, { before: unknown; after: unknown }> = {};
  const fields = [
    ["first_name", "firstName"],
    ["middle_name", "middleName"],
    ["last_name", "lastName"],
    ["role_title", "roleTitle"],
  ] as const;
  for (const [field, column] of fields) {
    const value = changes[field];
    if (value === undefined || value === before[field]) continue;
    (set as Record<string, unknown>)[column] = value;
    diff[field] = { before: before[field], after: value };
  }
  if (Object.keys(diff).length > 0) {
    await writeWithAudit(
      db,
      actor,
      [{ action: "user.profile_updated", targetType: "user", targetId: userId, changes: diff }],
      () => [db.update(users).set(set).where(eq(users.id, userId))],
      now,
    );
  }
  return (await getProfile(db, userId))!;
}
