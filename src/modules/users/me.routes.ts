import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { principalOf, requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { ProfileSchema, UpdateMyProfileSchema } from "./users.schemas";
import { profileOfPrincipal, updateProfileNames } from "./users.service";

export const meRoutes = new OpenAPIHono<AppEnv>();

const getMyProfile = createRoute({
  method: "get",
  path: "/users/me",
  operationId: "getMyProfile",
  tags: ["Users"],
  summary: "The caller's profile with current roles and effective permissions",
  ...requirePermission("profile:read"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(ProfileSchema, "The caller's profile") },
});

// The auth guard's one D1 read already loaded everything the profile shows: no second query.
meRoutes.openapi(getMyProfile, (c) => {
  c.header("Cache-Control", "no-store");
  return c.json(profileOfPrincipal(principalOf(c)), 200);
});

const updateMyProfile = createRoute({
  method: "patch",
  path: "/users/me",
  operationId: "updateMyProfile",
  tags: ["Users"],
  summary: "Change the caller's names and title; any other field is a 422",
  ...requirePermission("profile:update"),
  request: { body: jsonBody(UpdateMyProfileSchema) },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(ProfileSchema, "The updated profile") },
});

meRoutes.openapi(updateMyProfile, async (c) => {
  const deps = authDeps(c);
  const profile = await updateProfileNames(deps.db, deps.actor, principalOf(c).userId, c.req.valid("json"), deps.now);
  return c.json(profile, 200);
});
