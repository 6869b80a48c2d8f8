import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { describeError } from "../../lib/logger";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { requireAssurance } from "../../middleware/assurance";
import { requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { SessionListSchema } from "../auth/auth.schemas";
import { prepareVectorRemoval } from "../ai/ai.documents.service";
import { deleteOwnerObjects } from "../files/files.storage";
import { callerOf } from "../roles/roles.context";
import { CreateUserSchema, ListUsersQuerySchema, ReplaceRolesSchema, UpdateUserSchema, UserIdParamSchema, UserPageSchema } from "./users.admin.schemas";
import { createUser, deleteUser, endUserSessions, listUsers, listUserSessions, replaceUserRoles, requireUser, updateUser } from "./users.admin.service";
import { ProfileSchema } from "./users.schemas";

/** User administration. Mounted after the /users/me routes; ids are UUIDs, so `me` never matches here. */
export const userRoutes = new OpenAPIHono<AppEnv>();

const GUARDED = "The caller must hold every permission the user holds (no acting on a more privileged account).";

const listUsersRoute = createRoute({
  method: "get",
  path: "/users",
  operationId: "listUsers",
  tags: ["Users"],
  summary: "List users, oldest first, with cursor pagination and filters",
  ...requirePermission("users:read"),
  request: { query: ListUsersQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(UserPageSchema, "One page of users") },
});

userRoutes.openapi(listUsersRoute, async (c) => {
  const page = await listUsers(authDeps(c).db, c.req.valid("query"));
  c.header("Cache-Control", "no-store");
  return c.json(page, 200);
});

const createUserRoute = createRoute({
  method: "post",
  path: "/users",
  operationId: "createUser",
  tags: ["Users"],
  summary: "Create a verified, approved account with the given roles",
  description: "The password policy applies. The caller must hold every permission of the roles given (the default role when none are).",
  ...requirePermission("users:create"),
  request: { body: jsonBody(CreateUserSchema) },
  responses: { ...errorResponses(401, 403, 409, 429), 201: jsonContent(ProfileSchema, "The new account") },
});

userRoutes.openapi(createUserRoute, async (c) => {
  const profile = await createUser(authDeps(c), callerOf(c), c.req.valid("json"));
  c.header("Location", `/api/v1/users/${profile.id}`);
  return c.json(profile, 201);
});

const getUserRoute = createRoute({
  method: "get",
  path: "/users/{id}",
  operationId: "getUser",
  tags: ["Users"],
  summary: "A user's profile with roles and effective permissions",
  ...requirePermission("users:read"),
  request: { params: UserIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(ProfileSchema, "The user") },
});

userRoutes.openapi(getUserRoute, async (c) => {
  const profile = await requireUser(authDeps(c).db, c.req.valid("param").id);
  c.header("Cache-Control", "no-store");
  return c.json(profile, 200);
});

const updateUserRoute = createRoute({
  method: "patch",
  path: "/users/{id}",
  operationId: "updateUser",
  tags: ["Users"],
  summary: "Change a user's names, title and flags; disabling ends all their sessions",
  description: `${GUARDED} Disabling or unapproving the last active administrator is a 409.`,
  ...requirePermission("users:update"),
  request: { params: UserIdParamSchema, body: jsonBody(UpdateUserSchema) },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 200: jsonContent(ProfileSchema, "The updated user") },
});

userRoutes.openapi(updateUserRoute, async (c) => {
  const profile = await updateUser(authDeps(c), callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  return c.json(profile, 200);
});

const deleteUserRoute = createRoute({
  method: "delete",
  path: "/users/{id}",
  operationId: "deleteUser",
  tags: ["Users"],
  summary: "Delete a user with their sessions, tokens, role assignments and files",
  description: `${GUARDED} Deleting the last active administrator is a 409.`,
  ...requireAssurance("aal2", requirePermission("users:delete")),
  request: { params: UserIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 204: { description: "Deleted" } },
});

userRoutes.openapi(deleteUserRoute, async (c) => {
  const { id } = c.req.valid("param");
  const deps = authDeps(c);
  const removeVectors = await prepareVectorRemoval(deps.db, deps.config, c.env, { ownerId: id });
  await deleteUser(deps, callerOf(c), id);
  try {
    await removeVectors();
    await deleteOwnerObjects(c.env.FILES, id);
  } catch (error) {
    // The account is gone either way; objects left under files/<id>/ are orphans the sweep removes.
    c.get("logger").error("deleting a deleted user's objects failed", { user_id: id, ...describeError(error) });
  }
  return c.body(null, 204);
});

const replaceRolesRoute = createRoute({
  method: "put",
  path: "/users/{id}/roles",
  operationId: "replaceUserRoles",
  tags: ["Users"],
  summary: "Replace a user's roles",
  description:
    `${GUARDED} The caller must also hold every permission of the new roles, cannot change their own roles (403), ` +
    "and cannot remove the last active holder of the admin role or of roles:assign (409). Unknown role names are a 422.",
  ...requireAssurance("aal2", requirePermission("roles:assign")),
  request: { params: UserIdParamSchema, body: jsonBody(ReplaceRolesSchema) },
  responses: { ...errorResponses(401, 403, 404, 409, 429), 200: jsonContent(ProfileSchema, "The user with the new roles") },
});

userRoutes.openapi(replaceRolesRoute, async (c) => {
  const profile = await replaceUserRoles(authDeps(c), callerOf(c), c.req.valid("param").id, c.req.valid("json").roles);
  return c.json(profile, 200);
});

const listSessionsRoute = createRoute({
  method: "get",
  path: "/users/{id}/sessions",
  operationId: "listUserSessions",
  tags: ["Users"],
  summary: "A user's live sessions, newest first",
  ...requirePermission("sessions:revoke"),
  request: { params: UserIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(SessionListSchema, "Live sessions") },
});

userRoutes.openapi(listSessionsRoute, async (c) => {
  const items = await listUserSessions(authDeps(c), callerOf(c), c.req.valid("param").id);
  c.header("Cache-Control", "no-store");
  return c.json({ items } satisfies z.infer<typeof SessionListSchema>, 200);
});

const endSessionsRoute = createRoute({
  method: "delete",
  path: "/users/{id}/sessions",
  operationId: "endUserSessions",
  tags: ["Users"],
  summary: "End every session of a user (their access tokens stop working at once)",
  ...requirePermission("sessions:revoke"),
  request: { params: UserIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "Every session is ended" } },
});

userRoutes.openapi(endSessionsRoute, async (c) => {
  await endUserSessions(authDeps(c), callerOf(c), c.req.valid("param").id);
  return c.body(null, 204);
});
