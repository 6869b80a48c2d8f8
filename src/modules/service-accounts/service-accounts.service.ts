import { and, asc, eq, gt, or, sql } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import { serviceAccounts, userRoles, users } from "../../db/schema";
import { writeWithAudit } from "../../lib/audit";
import { newId } from "../../lib/ids";
import { decodeCursor, toPage, type PaginationQuery } from "../../lib/pagination";
import { ProblemError } from "../../lib/problem";
import type { AuthDeps } from "../auth/auth.context";
import { newUserRow } from "../auth/auth.service";
import { assertHolds, permissionsOfUser, resolveRoles, type Caller } from "../roles/roles.guards";
import type { CreateServiceAccountInput, ServiceAccount, UpdateServiceAccountInput } from "./service-accounts.schemas";

/*
 * A service account is a users row of kind `service` plus its service_accounts row. Its users row
 * is never verified nor approved and has no usable password: login refuses the kind outright, and
 * the last-administrator guards (which count only verified, approved users) never count a machine
 * as the administrator who keeps the system repairable.
 */
const UNUSABLE_PASSWORD_HASH = "!service-account";
const serviceEmail = (id: string) => `${id}@service-accounts.invalid`;

const ROLES_OF = sql<string>`(select json_group_array(r.name) from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = "users"."id")`;

function toServiceAccount(row: { account: typeof serviceAccounts.$inferSelect; isActive: boolean; roles: string }): ServiceAccount {
  return {
    id: row.account.id,
    name: row.account.name,
    description: row.account.description,
    is_active: row.isActive,
    roles: (JSON.parse(row.roles) as string[]).sort(),
    created_by: row.account.createdBy,
    created_at: new Date(row.account.createdAt).toISOString(),
  };
}

const selection = { account: serviceAccounts, isActive: users.isActive, roles: ROLES_OF };

export async function requireServiceAccount(db: Database, id: string): Promise<ServiceAccount> {
  const row = await db.select(selection).from(serviceAccounts).innerJoin(users, eq(users.id, serviceAccounts.id)).where(eq(serviceAccounts.id, id)).get();
  if (!row) throw new ProblemError("not_found", { detail: "No such service account." });
  return toServiceAccount(row);
}

const AccountCursor = z.tuple([z.number().int(), z.uuid()]);

export async function listServiceAccounts(db: Database, query: PaginationQuery) {
  const after = decodeCursor(query.cursor, AccountCursor);
  const rows = await db
    .select(selection)
    .from(serviceAccounts)
    .innerJoin(users, eq(users.id, serviceAccounts.id))
    .where(after ? or(gt(serviceAccounts.createdAt, after[0]), and(eq(serviceAccounts.createdAt, after[0]), gt(serviceAccounts.id, after[1]))) : undefined)
    .orderBy(asc(serviceAccounts.createdAt), asc(serviceAccounts.id))
    .limit(query.limit + 1)
    .all();
  return toPage(rows, query.limit, (row) => [row.account.createdAt, row.account.id], toServiceAccount);
}

const isDuplicateName = (error: unknown) => error instanceof Error && /UNIQUE constraint failed: .*service_accounts/.test(`${error.message} ${String(error.cause)}`);

/** Creates the account with its roles; the caller must hold every permission of those roles. */
export async function createServiceAccount(deps: AuthDeps, caller: Caller, input: CreateServiceAccountInput): Promise<ServiceAccount> {
  const assigned = await resolveRoles(deps.db, input.roles, "body.roles");
  assertHolds(caller, assigned.flatMap((role) => role.permissions), "Assigning these roles");
  const id = newId(deps.now);
  const userRow = {
    ...newUserRow(id, serviceEmail(id), UNUSABLE_PASSWORD_HASH, { first_name: input.name, last_name: "service account" }, { emailVerifiedAt: null, isApproved: false }, deps.now),
    kind: "service" as const,
  };
  const taken = () => new ProblemError("already_exists", { detail: "A service account with this name already exists." });
  if (await deps.db.select({ id: serviceAccounts.id }).from(serviceAccounts).where(sql`lower(${serviceAccounts.name}) = ${input.name}`).get()) throw taken();
  try {
    await writeWithAudit(
      deps.db,
      deps.actor,
      [
        {
          action: "service_account.created",
          sessionId: caller.sessionId,
          targetType: "service_account",
          targetId: id,
          changes: { name: input.name, description: input.description, roles: assigned.map((role) => role.name).sort() },
        },
      ],
      () => [
        deps.db.insert(users).values(userRow),
        deps.db.insert(serviceAccounts).values({ id, name: input.name, description: input.description, createdBy: caller.userId, createdAt: deps.now }),
        ...assigned.map((role) => deps.db.insert(userRoles).values({ userId: id, roleId: role.id, createdAt: deps.now })),
      ],
      deps.now,
    );
  } catch (error) {
    if (isDuplicateName(error)) throw taken();
    throw error;
  }
  return requireServiceAccount(deps.db, id);
}

/** Acting on an account needs every permission it holds (no way up through a machine). */
async function assertMayChange(db: Database, caller: Caller, id: string, what: string): Promise<ServiceAccount> {
  const account = await requireServiceAccount(db, id);
  assertHolds(caller, await permissionsOfUser(db, id), what);
  return account;
}

/** Changes the description or the active flag; disabling stops every key of the account at once. */
export async function updateServiceAccount(deps: AuthDeps, caller: Caller, id: string, input: UpdateServiceAccountInput): Promise<ServiceAccount> {
  const before = await assertMayChange(deps.db, caller, id, "Changing this service account");
  const diff: Record<string, { before: unknown; after: unknown }> = {};
  if (input.description !== undefined && input.description !== before.description) diff.description = { before: before.description, after: input.description };
  if (input.is_active !== undefined && input.is_active !== before.is_active) diff.is_active = { before: before.is_active, after: input.is_active };
  if (Object.keys(diff).length === 0) return before;
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "service_account.updated", sessionId: caller.sessionId, targetType: "service_account", targetId: id, changes: diff }],
    () => [
      ...(input.description !== undefined ? [deps.db.update(serviceAccounts).set({ description: input.description }).where(eq(serviceAccounts.id, id))] : []),
      deps.db.update(users).set({ isActive: input.is_active ?? before.is_active, updatedAt: deps.now }).where(eq(users.id, id)),
    ],
    deps.now,
  );
  return requireServiceAccount(deps.db, id);
}

/** Deletes the account; D1 cascades its keys, role assignments and files. */
export async function deleteServiceAccount(deps: AuthDeps, caller: Caller, id: string): Promise<void> {
  const before = await assertMayChange(deps.db, caller, id, "Deleting this service account");
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "service_account.deleted", sessionId: caller.sessionId, targetType: "service_account", targetId: id, changes: { before } }],
    () => [deps.db.delete(users).where(and(eq(users.id, id), eq(users.kind, "service")))],
    deps.now,
  );
}
