import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ProblemError } from "../lib/problem";

/**
 * Bounds the handler by REQUEST_TIMEOUT_MS: past it the client gets a 504 problem instead of
 * waiting on a stuck dependency. The abandoned work is not cancelled (Workers cannot preempt it),
 * but nothing it produces reaches the client.
 */
export const timeout = createMiddleware<AppEnv>(async (c, next) => {
  const limit = c.get("config").REQUEST_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProblemError("timeout", { detail: `The request took longer than ${limit} ms.` })),
      limit,
    );
  });
  try {
    await Promise.race([next(), expired]);
  } finally {
    clearTimeout(timer);
  }
});
