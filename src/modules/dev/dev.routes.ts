import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import type { AppEnv } from "../../bindings";
import { isLoopbackUrl } from "../../env";
import { errorResponses, jsonContent, PUBLIC_ACCESS } from "../../lib/openapi";
import { ProblemError } from "../../lib/problem";
import { MailboxQuerySchema, MailboxSchema } from "./dev.schemas";
import { clearCapturedMails, listCapturedMails } from "./dev.service";

/**
 * Development helpers. They exist only with ENVIRONMENT=development and MAIL_TRANSPORT=capture,
 * and only for requests to a loopback origin (the development machine); otherwise every method on
 * these paths answers exactly like a path that does not exist. (The configuration check refuses
 * development with a non-loopback PUBLIC_BASE_URL, and capture in staging and production.)
 */
export const devRoutes = new OpenAPIHono<AppEnv>();

devRoutes.use("/dev/*", async (c, next) => {
  const config = c.var.config;
  const served = config.ENVIRONMENT === "development" && config.MAIL_TRANSPORT === "capture" && isLoopbackUrl(c.req.url);
  if (!served) throw new ProblemError("not_found", { detail: "No route matches this path." });
  await next();
});

const DEV_ONLY = "Exists only with ENVIRONMENT=development and MAIL_TRANSPORT=capture, on a loopback origin; anywhere else it answers 404.";

const getMailbox = createRoute({
  method: "get",
  path: "/dev/mailbox",
  operationId: "getDevMailbox",
  tags: ["Dev"],
  security: PUBLIC_ACCESS,
  summary: "Emails captured for one recipient, newest first",
  description: `${DEV_ONLY} Lists at most 50 messages sent through the capture transport.`,
  request: { query: MailboxQuerySchema },
  responses: { 200: jsonContent(MailboxSchema, "The captured messages, newest first"), ...errorResponses(404) },
});

devRoutes.openapi(getMailbox, async (c) => {
  const { to } = c.req.valid("query");
  const items = await listCapturedMails(createDb(c.env.DB), to);
  c.header("Cache-Control", "no-store");
  return c.json({ items }, 200);
});

const clearMailbox = createRoute({
  method: "delete",
  path: "/dev/mailbox",
  operationId: "clearDevMailbox",
  tags: ["Dev"],
  security: PUBLIC_ACCESS,
  summary: "Delete every email captured for one recipient",
  description: DEV_ONLY,
  request: { query: MailboxQuerySchema },
  responses: { 204: { description: "The recipient's captured messages are gone" }, ...errorResponses(404) },
});

devRoutes.openapi(clearMailbox, async (c) => {
  const { to } = c.req.valid("query");
  await clearCapturedMails(createDb(c.env.DB), to);
  return c.body(null, 204);
});
