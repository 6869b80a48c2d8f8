import { asc, eq, gt, sql } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import { permissions, rolePermissions, roles } from "../../db/schema";
import { writeWithAudit } from "../../lib/audit";
import { newId } from "../../lib/ids";
import { decodeCursor, toPage, type PaginationQuery } from "../../lib/pagination";
import { ProblemError } from "../../lib/problem";
import type { AuthDeps } from "../auth/auth.context";
import { ADMIN_ROLE, assertHolds, type Caller } from "../roles/roles.guards";
import { MAX_PERMISSIONS } from "../roles/roles.schemas";
import type { CreatePermissionInput, PermissionItem } from "./permissions.schemas";

const PermissionCursor = z.tuple([z.string().min(1).max(128)]);

function toItem(row: typeof permissions.$inferSelect): PermissionItem {
  return { id: row.id, name: row.name, description: row.description, is_system: row.isSystem, created_at: new Date(row.createdAt).toISOString() };
}

/** The catalog and the custom permissions, ordered by name, one page at a time. */
export async function listPermissions(db: Database, query: PaginationQuery) {
  const after = decodeCursor(query.cursor, PermissionCursor);
  const rows = await db
    .select()
    .from(permissions)
    .where(after ? gt(permissions.name, after[0]) : undefined)
    .orderBy(asc(permissions.name))
    .limit(query.limit + 1)
    .all();
  return toPage(rows, query.limit, (row) => [row.name], toItem);
}

const nameTaken = (name: string) => new ProblemError("already_exists", { detail: `A permission named "${name}" already exists.` });

/**
 * Adds a custom permission. The admin role receives it in the same batch: administrators hold
 * every permission, custom ones included. Nobody else gets it until a role grants it.
 */
export async function createPermission(deps: AuthDeps, caller: Caller, input: CreatePermissionInput): Promise<PermissionItem> {
  const existing = await deps.db.select({ id: permissions.id }).from(permissions).where(sql`lower(${permissions.name}) = ${input.name.toLowerCase()}`).get();
  if (existing) throw nameTaken(input.name);
  const total = await deps.db.get<{ n: number }>(sql`select count(*) as n from ${permissions}`);
  if ((total?.n ?? 0) >= MAX_PERMISSIONS) {
    throw new ProblemError("conflict", { detail: `There are already ${MAX_PERMISSIONS} permissions; delete unused custom ones first.` });
  }
  const row = { id: newId(deps.now), name: input.name, description: input.description, isSystem: false, createdAt: deps.now };
  try {
    await writeWithAudit(
      deps.db,
      deps.actor,
      [
        {
          action: "permission.created",
          sessionId: caller.sessionId,
          targetType: "permission",
          targetId: row.id,
          changes: { before: null, after: { name: row.name, description: row.description }, granted_to_roles: [ADMIN_ROLE] },
        },
      ],
      () => [
        deps.db.insert(permissions).values(row),
        deps.db
          .insert(rolePermissions)
          .select(deps.db.select({ roleId: roles.id, permissionId: sql<string>`${row.id}`.as("permission_id") }).from(roles).where(eq(roles.name, ADMIN_ROLE))),
      ],
      deps.now,
    );
  } catch (error) {
    if (error instanceof Error && /UNIQUE constraint failed: .*permissions/.test(`${error.message} ${String(error.cause)}`)) throw nameTaken(input.name);
    throw error;
  }
  return toItem(row);
}

/**
 * Deletes a custom permission and every grant of it. Catalog permissions are checked by the code
 * and cannot be deleted (409). The caller must hold the permission itself.
 */
export async function deletePermission(deps: AuthDeps, caller: Caller, permissionId: string): Promise<void> {
  const row = await deps.db.select().from(permissions).where(eq(permissions.id, permissionId)).get();
  if (!row) throw new ProblemError("not_found", { detail: "No such permission." });
  if (row.isSystem) throw new ProblemError("catalog_permission", { detail: `"${row.name}" is part of the catalog the code checks; it cannot be deleted.` });
  assertHolds(caller, [row.name], "Deleting this permission");
  const grantedTo = await deps.db
    .select({ name: roles.name })
    .from(rolePermissions)
    .innerJoin(roles, eq(roles.id, rolePermissions.roleId))
    .where(eq(rolePermissions.permissionId, permissionId))
    .orderBy(asc(roles.name))
    .all();
  await writeWithAudit(
    deps.db,
    deps.actor,
    [
      {
        action: "permission.deleted",
        sessionId: caller.sessionId,
        targetType: "permission",
        targetId: permissionId,
        changes: { before: { name: row.name, description: row.description }, after: null, revoked_from_roles: grantedTo.map((role) => role.name) },
      },
    ],
    () => [deps.db.delete(permissions).where(eq(permissions.id, permissionId))],
    deps.now,
  );
}
