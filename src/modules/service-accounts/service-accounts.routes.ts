import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { callerOf } from "../roles/roles.context";
import {
  CreateServiceAccountSchema,
  ListServiceAccountsQuerySchema,
  ServiceAccountIdParamSchema,
  ServiceAccountPageSchema,
  ServiceAccountSchema,
  UpdateServiceAccountSchema,
} from "./service-accounts.schemas";
import { createServiceAccount, deleteServiceAccount, listServiceAccounts, requireServiceAccount, updateServiceAccount } from "./service-accounts.service";

/**
 * Service accounts: non-human principals with roles that act only through API keys
 * (POST /api-keys with `owner_id`). They can never log in.
 */
export const serviceAccountRoutes = new OpenAPIHono<AppEnv>();

const GUARDED = "You must hold every permission the account holds (403 `escalation_denied`).";

const createServiceAccountRoute = createRoute({
  method: "post",
  path: "/service-accounts",
  operationId: "createServiceAccount",
  tags: ["Service accounts"],
  summary: "Create a service account with roles",
  description: "You must hold every permission of the roles (403 `escalation_denied`); names are unique (409). Give it keys with POST /api-keys and `owner_id`.",
  ...requirePermission("service_accounts:write"),
  request: { body: jsonBody(CreateServiceAccountSchema) },
  responses: { ...errorResponses(401, 403, 409, 429), 201: jsonContent(ServiceAccountSchema, "The new service account") },
});

serviceAccountRoutes.openapi(createServiceAccountRoute, async (c) => {
  const account = await createServiceAccount(authDeps(c), callerOf(c), c.req.valid("json"));
  c.header("Location", `/api/v1/service-accounts/${account.id}`);
  return c.json(account, 201);
});

const listServiceAccountsRoute = createRoute({
  method: "get",
  path: "/service-accounts",
  operationId: "listServiceAccounts",
  tags: ["Service accounts"],
  summary: "List service accounts, oldest first",
  ...requirePermission("service_accounts:read"),
  request: { query: ListServiceAccountsQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(ServiceAccountPageSchema, "One page of service accounts") },
});

serviceAccountRoutes.openapi(listServiceAccountsRoute, async (c) => {
  const page = await listServiceAccounts(authDeps(c).db, c.req.valid("query"));
  c.header("Cache-Control", "no-store");
  return c.json(page, 200);
});

const getServiceAccountRoute = createRoute({
  method: "get",
  path: "/service-accounts/{id}",
  operationId: "getServiceAccount",
  tags: ["Service accounts"],
  summary: "One service account with its roles",
  ...requirePermission("service_accounts:read"),
  request: { params: ServiceAccountIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(ServiceAccountSchema, "The service account") },
});

serviceAccountRoutes.openapi(getServiceAccountRoute, async (c) => {
  const account = await requireServiceAccount(authDeps(c).db, c.req.valid("param").id);
  c.header("Cache-Control", "no-store");
  return c.json(account, 200);
});

const updateServiceAccountRoute = createRoute({
  method: "patch",
  path: "/service-accounts/{id}",
  operationId: "updateServiceAccount",
  tags: ["Service accounts"],
  summary: "Change the description, or disable/enable (a disabled account's keys stop at once)",
  description: GUARDED,
  ...requirePermission("service_accounts:write"),
  request: { params: ServiceAccountIdParamSchema, body: jsonBody(UpdateServiceAccountSchema) },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(ServiceAccountSchema, "The updated service account") },
});

serviceAccountRoutes.openapi(updateServiceAccountRoute, async (c) => {
  const account = await updateServiceAccount(authDeps(c), callerOf(c), c.req.valid("param").id, c.req.valid("json"));
  return c.json(account, 200);
});

const deleteServiceAccountRoute = createRoute({
  method: "delete",
  path: "/service-accounts/{id}",
  operationId: "deleteServiceAccount",
  tags: ["Service accounts"],
  summary: "Delete a service account with its keys and role assignments",
  description: GUARDED,
  ...requirePermission("service_accounts:write"),
  request: { params: ServiceAccountIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "Deleted" } },
});

serviceAccountRoutes.openapi(deleteServiceAccountRoute, async (c) => {
  await deleteServiceAccount(authDeps(c), callerOf(c), c.req.valid("param").id);
  return c.body(null, 204);
});
