import { and, asc, eq, gt, ne, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import { rolePermissions, roles, userRoles } from "../../db/schema";
import { writeWithAudit, type AuditEvent } from "../../lib/audit";
import { newId } from "../../lib/ids";
import { decodeCursor, toPage, type PaginationQuery } from "../../lib/pagination";
import { ProblemError } from "../../lib/problem";
import type { AuthDeps } from "../auth/auth.context";
import { ADMIN_ROLE, assertHolds, lastHolderGuards, resolvePermissions, withLastHolderGuard, type Caller } from "./roles.guards";
import type { CreateRoleInput, Role, UpdateRoleInput } from "./roles.schemas";

const RoleCursor = z.tuple([z.string().min(1).max(64)]);

/** How many assigned users a role deletion lists by id in its audit event (the count is exact). */
const AUDITED_HOLDERS = 1000;

const roleColumns = {
  role: roles,
  permissions: sql<string>`(select json_group_array(p.name) from role_permissions rp join permissions p on p.id = rp.permission_id where rp.role_id = "roles"."id")`,
  userCount: sql<number>`(select count(*) from user_roles ur where ur.role_id = "roles"."id")`,
};

type RoleRow = { role: typeof roles.$inferSelect; permissions: string; userCount: number };

function toRole({ role, permissions, userCount }: RoleRow): Role {
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    is_system: role.isSystem,
    permissions: (JSON.parse(permissions) as string[]).sort(),
    user_count: userCount,
    ai_daily_token_limit: role.aiDailyTokenLimit,
    ai_monthly_cost_limit_usd: role.aiMonthlyCostLimitMicroUsd === null ? null : role.aiMonthlyCostLimitMicroUsd / 1_000_000,
    created_at: new Date(role.createdAt).toISOString(),
    updated_at: new Date(role.updatedAt).toISOString(),
  };
}

/** Roles ordered by name, one page at a time. */
export async function listRoles(db: Database, query: PaginationQuery) {
  const after = decodeCursor(query.cursor, RoleCursor);
  const rows = await db
    .select(roleColumns)
    .from(roles)
    .where(after ? gt(roles.name, after[0]) : undefined)
    .orderBy(asc(roles.name))
    .limit(query.limit + 1)
    .all();
  return toPage(rows, query.limit, (row) => [row.role.name], toRole);
}

/** One role with its permissions, or a 404. */
export async function getRole(db: Database, roleId: string): Promise<Role> {
  const row = await db.select(roleColumns).from(roles).where(eq(roles.id, roleId)).get();
  if (!row) throw new ProblemError("not_found", { detail: "No such role." });
  return toRole(row);
}

async function assertNameFree(db: Database, name: string, exceptId?: string): Promise<void> {
  const filters: SQL[] = [sql`lower(${roles.name}) = ${name.toLowerCase()}`];
  if (exceptId) filters.push(ne(roles.id, exceptId));
  if (await db.select({ id: roles.id }).from(roles).where(and(...filters)).get()) throw nameTaken(name);
}

const nameTaken = (name: string) => new ProblemError("already_exists", { detail: `A role named "${name}" already exists.` });
const isNameConflict = (error: unknown) => error instanceof Error && /UNIQUE constraint failed: .*roles/.test(`${error.message} ${String(error.cause)}`);

/** Creates a custom role; the caller must hold every permission it grants. */
export async function createRole(deps: AuthDeps, caller: Caller, input: CreateRoleInput): Promise<Role> {
  const aiPolicy = aiPolicyColumns(caller, input);
  await assertNameFree(deps.db, input.name);
  const granted = await resolvePermissions(deps.db, input.permissions, "body.permissions");
  assertHolds(caller, granted.map((permission) => permission.name), "Granting these permissions");
  const roleId = newId(deps.now);
  const after = { name: input.name, description: input.description, permissions: granted.map((permission) => permission.name).sort(), ...aiPolicy };
  try {
    await writeWithAudit(
      deps.db,
      deps.actor,
      [{ action: "role.created", sessionId: caller.sessionId, targetType: "role", targetId: roleId, changes: { before: null, after } }],
      () => [
        deps.db.insert(roles).values({ id: roleId, name: input.name, description: input.description, isSystem: false, ...aiPolicy, createdAt: deps.now, updatedAt: deps.now }),
        ...granted.map((permission) => deps.db.insert(rolePermissions).values({ roleId, permissionId: permission.id })),
      ],
      deps.now,
    );
  } catch (error) {
    if (isNameConflict(error)) throw nameTaken(input.name);
    throw error;
  }
  return getRole(deps.db, roleId);
}

type AiPolicyInput = { ai_daily_token_limit?: number | null | undefined; ai_monthly_cost_limit_usd?: number | null | undefined };

/** The AI policy fields present in a request, as columns; only ai:manage holders may send them. */
function aiPolicyColumns(caller: Caller, input: AiPolicyInput): Partial<typeof roles.$inferInsert> {
  const columns: Partial<typeof roles.$inferInsert> = {};
  if (input.ai_daily_token_limit !== undefined) columns.aiDailyTokenLimit = input.ai_daily_token_limit;
  if (input.ai_monthly_cost_limit_usd !== undefined) {
    columns.aiMonthlyCostLimitMicroUsd = input.ai_monthly_cost_limit_usd === null ? null : Math.round(input.ai_monthly_cost_limit_usd * 1_000_000);
  }
  if (Object.keys(columns).length > 0 && !caller.permissions.has("ai:manage")) {
    throw new ProblemError("forbidden", { detail: "Setting a role's AI limits needs the permission ai:manage.", extensions: { missing_permissions: ["ai:manage"] } });
  }
  return columns;
}

const sameSet = (left: readonly string[], right: readonly string[]) => left.length === right.length && left.every((item) => right.includes(item));

/**
 * Renames, describes or replaces the permissions of a role. System roles keep their names; the
 * admin role keeps every permission. The caller must hold the role's permissions before and after.
 */
export async function updateRole(deps: AuthDeps, caller: Caller, roleId: string, input: UpdateRoleInput): Promise<Role> {
  const aiPolicy = aiPolicyColumns(caller, input);
  const before = await getRole(deps.db, roleId);
  assertHolds(caller, before.permissions, "Changing this role");
  const set: Partial<typeof roles.$inferInsert> = {};
  const diff: Record<string, { before: unknown; after: unknown }> = {};
  if (input.ai_daily_token_limit !== undefined && input.ai_daily_token_limit !== before.ai_daily_token_limit) {
    set.aiDailyTokenLimit = aiPolicy.aiDailyTokenLimit ?? null;
    diff.ai_daily_token_limit = { before: before.ai_daily_token_limit, after: input.ai_daily_token_limit };
  }
  if (input.ai_monthly_cost_limit_usd !== undefined && input.ai_monthly_cost_limit_usd !== before.ai_monthly_cost_limit_usd) {
    set.aiMonthlyCostLimitMicroUsd = aiPolicy.aiMonthlyCostLimitMicroUsd ?? null;
    diff.ai_monthly_cost_limit_usd = { before: before.ai_monthly_cost_limit_usd, after: input.ai_monthly_cost_limit_usd };
  }
  if (input.name !== undefined && input.name !== before.name) {
    if (before.is_system) throw new ProblemError("system_role", { detail: `The system role "${before.name}" cannot be renamed.` });
    await assertNameFree(deps.db, input.name, roleId);
    set.name = input.name;
    diff.name = { before: before.name, after: input.name };
  }
  if (input.description !== undefined && input.description !== before.description) {
    set.description = input.description;
    diff.description = { before: before.description, after: input.description };
  }

  let granted: { id: string; name: string }[] | undefined;
  if (input.permissions !== undefined) {
    granted = await resolvePermissions(deps.db, input.permissions, "body.permissions");
    const names = granted.map((permission) => permission.name);
    if (sameSet(names, before.permissions)) {
      granted = undefined;
    } else {
      if (before.name === ADMIN_ROLE) {
        throw new ProblemError("system_role", { detail: `The ${ADMIN_ROLE} role always holds every permission; its set cannot change.` });
      }
      assertHolds(caller, names, "Granting these permissions");
    }
  }
  if (Object.keys(diff).length === 0 && !granted) return before;

  const events: AuditEvent[] = [];
  const statements: BatchItem<"sqlite">[] = [deps.db.update(roles).set({ ...set, updatedAt: deps.now }).where(eq(roles.id, roleId))];
  if (Object.keys(diff).length > 0) {
    events.push({ action: "role.updated", sessionId: caller.sessionId, targetType: "role", targetId: roleId, changes: diff });
  }
  if (granted) {
    const after = granted.map((permission) => permission.name).sort();
    events.push({
      action: "role.permissions_replaced",
      sessionId: caller.sessionId,
      targetType: "role",
      targetId: roleId,
      changes: {
        role: set.name ?? before.name,
        before: before.permissions,
        after,
        added: after.filter((name) => !before.permissions.includes(name)),
        removed: before.permissions.filter((name) => !after.includes(name)),
      },
    });
    statements.push(deps.db.delete(rolePermissions).where(eq(rolePermissions.roleId, roleId)));
    statements.push(...granted.map((permission) => deps.db.insert(rolePermissions).values({ roleId, permissionId: permission.id })));
    // Taking roles:assign away from a role may take it from its last active holder.
    statements.push(...(await lastHolderGuards(deps.db)));
  }
  try {
    await withLastHolderGuard(() => writeWithAudit(deps.db, deps.actor, events, () => statements, deps.now));
  } catch (error) {
    if (isNameConflict(error) && set.name) throw nameTaken(set.name);
    throw error;
  }
  return getRole(deps.db, roleId);
}

/**
 * Deletes a custom role. A role still assigned needs `force`; its assignments go with it, and
 * the audit event lists whom it was taken from.
 */
export async function deleteRole(deps: AuthDeps, caller: Caller, roleId: string, force: boolean): Promise<void> {
  const before = await getRole(deps.db, roleId);
  if (before.is_system) throw new ProblemError("system_role", { detail: `The system role "${before.name}" cannot be deleted.` });
  assertHolds(caller, before.permissions, "Deleting this role");
  if (before.user_count > 0 && !force) {
    throw new ProblemError("role_in_use", {
      detail: `The role is assigned to ${before.user_count} user(s); repeat with ?force=true to delete it and its assignments.`,
      extensions: { user_count: before.user_count },
    });
  }
  const holders = await deps.db.select({ userId: userRoles.userId }).from(userRoles).where(eq(userRoles.roleId, roleId)).limit(AUDITED_HOLDERS).all();
  const guards = await lastHolderGuards(deps.db);
  await withLastHolderGuard(() =>
    writeWithAudit(
      deps.db,
      deps.actor,
      [
        {
          action: "role.deleted",
          sessionId: caller.sessionId,
          targetType: "role",
          targetId: roleId,
          changes: {
            before: { name: before.name, description: before.description, permissions: before.permissions },
            after: null,
            forced: force,
            unassigned_user_count: before.user_count,
            unassigned_user_ids: holders.map((holder) => holder.userId),
          },
        },
      ],
      () => [deps.db.delete(roles).where(eq(roles.id, roleId)), ...guards],
      deps.now,
    ),
  );
}
