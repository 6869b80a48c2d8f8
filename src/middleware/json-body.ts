import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { ProblemError } from "../lib/problem";

const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * JSON endpoints accept only `application/json` (optionally `; charset=utf-8`) and only bodies
 * that parse: 415 and 400 problems otherwise. Hono's validator would quietly treat a non-JSON body
 * as `{}`, so the check happens here, once, before any route. Runs after `bodyLimit`, so the body
 * is already buffered. Multipart routes (uploads) are exempted by `skip`.
 */
export function jsonBody(skip: (c: Context<AppEnv>) => boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS" || skip(c)) return next();
    // Bytes first: the media type is checked before anything is decoded as text.
    const bytes = await c.req.raw.clone().arrayBuffer();
    if (bytes.byteLength === 0) return next();
    const contentType = c.req.header("Content-Type") ?? "";
    if (!JSON_MEDIA_TYPE.test(contentType.trim())) {
      throw new ProblemError("unsupported_media_type", {
        detail: "Send the body as application/json.",
        headers: { "Accept-Post": "application/json", "Accept-Patch": "application/json" },
      });
    }
    try {
      // JSON is UTF-8 (RFC 8259 §8.1): invalid byte sequences are malformed JSON, not replacement characters.
      JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch {
      throw new ProblemError("invalid_json", { detail: "The request body is not valid JSON." });
    }
    await next();
  });
}
