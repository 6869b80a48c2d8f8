import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { requireAssurance } from "../../middleware/assurance";
import { requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { callerOf } from "./roles.context";
import { CreateRoleSchema, DeleteRoleQuerySchema, ListRolesQuerySchema, RoleIdParamSchema, RolePageSchema, RoleSchema, UpdateRoleSchema } from "./roles.schemas";
import { createRole, deleteRole, getRole, listRoles, updateRole } from "./roles.service";

export const roleRoutes = new OpenAPIHono<AppEnv>();

const listRolesRoute = createRoute({
  method: "get",
  path: "/roles",
  operationId: "listRoles",
  tags: ["Roles"],
  summary: "List roles by name, with their permissions",
  ...requirePermission("roles:read"),
  request: { query: ListRolesQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(RolePageSchema, "One page of roles") },
});

roleRoutes.openapi(listRolesRoute, async (c) => {
  const page = await listRoles(authDeps(c).db, c.req.valid("query"));
  c.header("Cache-Control", "no-store");
  return c.json(page, 200);
});

const createRoleRoute = createRoute({
  method: "post",
  path: "/roles",
  operationId: "createRole",
  tags: ["Roles"],
  summary: "Create a custom role",
  description: "You can grant only permissions you hold (403 `escalation_denied`). Names are unique case-insensitively (409).",
  ...requireAssurance("aal2", requirePermission("roles:write")),
  request: { body: jsonBody(CreateRoleSchema) },
  responses: { ...errorResponses(401, 403, 409, 429), 201: jsonContent(RoleSchema, "The new role") },
});

roleRoutes.openapi(createRoleRoute, async (c) => {
  const role = await createRole(authDeps(c), callerOf(c), c.req.valid("json"));
  c.header("Location", `/api/v1/roles/${role.id}`);
  return c.json(role, 201);
});

const getRoleRoute = createRoute({
  method: "get",
  path: "/roles/{id}",
  operationId: "getRole",
  tags: ["Roles"],
  summary: "One role with its permissions",
  ...requirePermission("roles:read"),
  request: { params: RoleIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(RoleSchema, "The role") },
});

roleRoutes.openapi(getRoleRoute, async (c) => {
  const role = await getRole(authDeps(c).db, c.req.valid("param").id);
  c.header("Cache-Control", "no-store");
  return c.json(role, 200);
});

const updateRoleRoute = createRoute({
  method: "patch",
  path: "/roles/{id}",
  operationId: "updateRole",
  tags: ["Roles"],
  summary: "Rename, describe or replace the permissions of a role",
  description:
    "You must hold every permission of the role before and after the change (403 `escalation_denied`). System roles cannot be " +
    "renamed and the admin role's permissions cannot change (409 `system_role`); removing roles:assign from its last active " +
    "holder is a 409 `last_admin`.",
  ...requireAssurance("aal2", requirePermission("roles:write")),
  request: { params: RoleIdParamSchema, body: jsonBody(UpdateRoleSchema) },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 200: jsonContent(RoleSchema, "The updated role") },
});

roleRoutes.openapi(updateRoleRoute, async (c) => {
  const role = await updateRole(authDeps(c), callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  return c.json(role, 200);
});

const deleteRoleRoute = createRoute({
  method: "delete",
  path: "/roles/{id}",
  operationId: "deleteRole",
  tags: ["Roles"],
  summary: "Delete a custom role (one still assigned only with ?force=true)",
  description: "System roles cannot be deleted (409 `system_role`); an assigned role without `force=true` is a 409 `role_in_use`.",
  ...requireAssurance("aal2", requirePermission("roles:write")),
  request: { params: RoleIdParamSchema, query: DeleteRoleQuerySchema },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 204: { description: "Deleted" } },
});

roleRoutes.openapi(deleteRoleRoute, async (c) => {
  await deleteRole(authDeps(c), callerOf(c), c.req.valid("param").id, c.req.valid("query").force);
  return c.body(null, 204);
});
