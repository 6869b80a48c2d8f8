import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { ProblemError } from "../lib/problem";

/**
 * Bounds the handler by REQUEST_TIMEOUT_MS: past it the client gets a 504 problem instead of
 * waiting on a stuck dependency. The abandoned work is not cancelled (Workers cannot preempt it),
 * but nothing it produces reaches the client. Streamed uploads (`isUpload`) read their body inside
 * the handler, at the client's speed, so they get UPLOAD_TIMEOUT_MS instead.
 */
export function timeout(isUpload: (c: Context<AppEnv>) => boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const config = c.get("config");
    const limit = isUpload(c) ? config.UPLOAD_TIMEOUT_MS : config.REQUEST_TIMEOUT_MS;
    c.set("deadline", Date.now() + limit);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProblemError("timeout", { detail: `The request took longer than ${limit} ms.` })), limit);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  });
}
