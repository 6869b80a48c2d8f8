import type { Context } from "hono";
import { createDb, type Database } from "../../db/client";
import type { AppEnv } from "../../bindings";
import type { Config } from "../../config";
import type { AuditActor } from "../../lib/audit";
import { requestAuditSeal } from "../../lib/audit-sealing";
import { clientIp } from "../../lib/client-ip";
import { describeError } from "../../lib/logger";
import { mailerFor, type Mailer } from "../../lib/mail";

/** What the auth services need from a request, without depending on Hono. */
export interface AuthDeps {
  db: Database;
  config: Config;
  mail: Mailer;
  actor: AuditActor;
  /** Request metadata stored on new sessions. */
  client: { userAgent: string | null; country: string | null };
  now: number;
  /**
   * Runs work after the response (ctx.waitUntil), so that the response's timing cannot reveal
   * what the work found (e.g. whether an email has an account). Failures are logged.
   */
  defer: (task: () => Promise<void>) => void;
}

/** Builds the service dependencies for the current request. */
export function authDeps(c: Context<AppEnv>): AuthDeps {
  const cf = c.req.raw.cf as { country?: string } | undefined;
  const userAgent = c.req.header("User-Agent")?.slice(0, 256) ?? null;
  return {
    db: createDb(c.env.DB),
    config: c.get("config"),
    mail: mailerFor(c),
    actor: { userId: c.get("userId") ?? null, ip: clientIp(c.req.raw), userAgent, requestId: c.get("requestId"), onWritten: () => requestAuditSeal(c) },
    client: { userAgent, country: typeof cf?.country === "string" ? cf.country : null },
    now: Date.now(),
    defer: (task) => {
      const logger = c.get("logger");
      const running = task().catch((error: unknown) => logger.error("background task failed", describeError(error)));
      try {
        c.executionCtx.waitUntil(running);
      } catch {
        // No execution context (direct app.request in unit tests): the promise simply runs on.
      }
    },
  };
}
