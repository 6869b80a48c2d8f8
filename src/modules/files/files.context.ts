import type { Context } from "hono";
import { createDb } from "../../db/client";
import type { AppEnv } from "../../bindings";
import { requestAuditSeal } from "../../lib/audit-sealing";
import { clientIp } from "../../lib/client-ip";
import type { FilesDeps } from "./files.service";

/** Builds the file services' dependencies for the current request. */
export function filesDeps(c: Context<AppEnv>): FilesDeps {
  return {
    db: createDb(c.env.DB),
    bucket: c.env.FILES,
    config: c.get("config"),
    actor: {
      userId: c.get("userId") ?? null,
      ip: clientIp(c.req.raw),
      userAgent: c.req.header("User-Agent")?.slice(0, 256) ?? null,
      requestId: c.get("requestId"),
      onWritten: () => requestAuditSeal(c),
    },
    logger: c.get("logger"),
    now: Date.now(),
  };
}
