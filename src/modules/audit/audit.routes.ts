import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonContent } from "../../lib/openapi";
import { requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { AuditPageSchema, AuditQuerySchema, AuditVerificationSchema } from "./audit.schemas";
import { listAuditLogs, verifyAuditChain } from "./audit.service";

export const auditRoutes = new OpenAPIHono<AppEnv>();

const listAuditLogsRoute = createRoute({
  method: "get",
  path: "/audit-logs",
  operationId: "listAuditLogs",
  tags: ["Audit"],
  summary: "Security events, newest first, with cursor pagination and filters",
  ...requirePermission("audit:read"),
  request: { query: AuditQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(AuditPageSchema, "One page of events") },
});

auditRoutes.openapi(listAuditLogsRoute, async (c) => {
  const page = await listAuditLogs(authDeps(c).db, c.req.valid("query"));
  c.header("Cache-Control", "no-store");
  return c.json(page, 200);
});

const verifyAuditLogRoute = createRoute({
  method: "get",
  path: "/audit-logs/verify",
  operationId: "verifyAuditLog",
  tags: ["Audit"],
  summary: "Recompute the hash chain and report whether history was altered",
  description: "Reads the whole log in order; `first_broken_seq` is the first row whose content or link does not match.",
  ...requirePermission("audit:read"),
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(AuditVerificationSchema, "The verification result") },
});

auditRoutes.openapi(verifyAuditLogRoute, async (c) => {
  const result = await verifyAuditChain(authDeps(c).db);
  c.header("Cache-Control", "no-store");
  return c.json(result, 200);
});
