import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { requireAssurance } from "../../middleware/assurance";
import { requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { callerOf } from "../roles/roles.context";
import { CreatePermissionSchema, ListPermissionsQuerySchema, PermissionIdParamSchema, PermissionPageSchema, PermissionSchema } from "./permissions.schemas";
import { createPermission, deletePermission, listPermissions } from "./permissions.service";

export const permissionRoutes = new OpenAPIHono<AppEnv>();

const listPermissionsRoute = createRoute({
  method: "get",
  path: "/permissions",
  operationId: "listPermissions",
  tags: ["Permissions"],
  summary: "The permission catalog and the custom permissions, by name",
  ...requirePermission("permissions:read"),
  request: { query: ListPermissionsQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(PermissionPageSchema, "One page of permissions") },
});

permissionRoutes.openapi(listPermissionsRoute, async (c) => {
  const page = await listPermissions(authDeps(c).db, c.req.valid("query"));
  c.header("Cache-Control", "no-store");
  return c.json(page, 200);
});

const createPermissionRoute = createRoute({
  method: "post",
  path: "/permissions",
  operationId: "createPermission",
  tags: ["Permissions"],
  summary: "Add a custom permission (the admin role receives it)",
  description: "Names are `resource:action` and unique case-insensitively (409 `already_exists`).",
  ...requireAssurance("aal2", requirePermission("permissions:write")),
  request: { body: jsonBody(CreatePermissionSchema) },
  responses: { ...errorResponses(401, 403, 409, 429), 201: jsonContent(PermissionSchema, "The new permission") },
});

permissionRoutes.openapi(createPermissionRoute, async (c) => {
  const permission = await createPermission(authDeps(c), callerOf(c), c.req.valid("json"));
  return c.json(permission, 201);
});

const deletePermissionRoute = createRoute({
  method: "delete",
  path: "/permissions/{id}",
  operationId: "deletePermission",
  tags: ["Permissions"],
  summary: "Delete a custom permission and every grant of it",
  description: "Catalog permissions cannot be deleted (409 `catalog_permission`); you must hold the permission (403 `escalation_denied`).",
  ...requireAssurance("aal2", requirePermission("permissions:write")),
  request: { params: PermissionIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 204: { description: "Deleted" } },
});

permissionRoutes.openapi(deletePermissionRoute, async (c) => {
  await deletePermission(authDeps(c), callerOf(c), c.req.valid("param").id);
  return c.body(null, 204);
});
