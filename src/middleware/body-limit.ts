import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { drainBody, readBodyWithLimit } from "../lib/body";
import { ProblemError } from "../lib/problem";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function tooLarge(maxBytes: number): ProblemError {
  return new ProblemError("payload_too_large", {
    detail: `The request body exceeds the limit of ${maxBytes} bytes.`,
    extensions: { max_bytes: maxBytes },
  });
}

/**
 * Refuses bodies over MAX_BODY_BYTES with 413 before anything parses them: at once when the
 * declared Content-Length is too large, and while counting when the body is chunked or the
 * declared length lies. The accepted body is buffered so handlers can read it as usual.
 * Routes that stream large bodies themselves (uploads) are exempted by `skip` and apply their own limit.
 */
export function bodyLimit(skip: (c: Context<AppEnv>) => boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!METHODS_WITH_BODY.has(c.req.method) || skip(c)) return next();
    const maxBytes = c.get("config").MAX_BODY_BYTES;
    const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await drainBody(c.req.raw.body);
      throw tooLarge(maxBytes);
    }
    const result = await readBodyWithLimit(c.req.raw.body, maxBytes);
    if (!result.ok) throw tooLarge(maxBytes);
    c.req.raw = new Request(c.req.raw, { body: result.bytes.byteLength > 0 ? result.bytes : null });
    await next();
  });
}
