import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonContent } from "../../lib/openapi";
import { requireAssurance } from "../../middleware/assurance";
import { requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { callerOf } from "../roles/roles.context";
import { RoleReferenceSchema, UserIdParamSchema } from "./users.admin.schemas";
import { addUserRole, removeUserRole } from "./users.admin.service";
import { ProfileSchema } from "./users.schemas";

/** One role at a time, beside PUT /users/{id}/roles which replaces the whole set. */
export const userRoleRoutes = new OpenAPIHono<AppEnv>();

const UserRoleParamSchema = UserIdParamSchema.extend({
  role: RoleReferenceSchema.openapi({ param: { name: "role", in: "path" }, description: "A role name (case-insensitive)" }),
});

const GUARDS =
  "Same guards as PUT /users/{id}/roles: you must hold every permission the user holds and every permission of the role " +
  "(403 `escalation_denied`), cannot change your own roles (403), and cannot remove the last active holder of the admin role " +
  "or of roles:assign (409). An unknown role is a 404. Works for service accounts too (their id is a user id).";

const addRoleRoute = createRoute({
  method: "post",
  path: "/users/{id}/roles/{role}",
  operationId: "addUserRole",
  tags: ["Users"],
  summary: "Give a user one role (no change when already held)",
  description: GUARDS,
  ...requireAssurance("aal2", requirePermission("roles:assign")),
  request: { params: UserRoleParamSchema },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 200: jsonContent(ProfileSchema, "The user with the role") },
});

userRoleRoutes.openapi(addRoleRoute, async (c) => {
  const { id, role } = c.req.valid("param");
  return c.json(await addUserRole(authDeps(c), callerOf(c), id, role), 200);
});

const removeRoleRoute = createRoute({
  method: "delete",
  path: "/users/{id}/roles/{role}",
  operationId: "removeUserRole",
  tags: ["Users"],
  summary: "Take one role from a user (no change when not held)",
  description: GUARDS,
  ...requireAssurance("aal2", requirePermission("roles:assign")),
  request: { params: UserRoleParamSchema },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 200: jsonContent(ProfileSchema, "The user without the role") },
});

userRoleRoutes.openapi(removeRoleRoute, async (c) => {
  const { id, role } = c.req.valid("param");
  return c.json(await removeUserRole(authDeps(c), callerOf(c), id, role), 200);
});
