/**
 * How stored bytes go back out: as a download that a browser cannot execute or render in the API's
 * origin (attachment, nosniff, a sandboxing CSP), with ETag revalidation and byte ranges. The one
 * exception, raster images on a signed link with `disposition=inline`, can be embedded as pixels.
 */
import { ProblemError } from "../../lib/problem";
import type { FileRow } from "./files.service";
import { isTextType } from "./files.validation";

/** Even if something renders the bytes, they run in an opaque origin with nothing allowed. */
export const DOWNLOAD_CSP = "sandbox; default-src 'none'";

/** RFC 8187 attr-chars stay as they are; everything else is percent-encoded as UTF-8. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `attachment` with an ASCII fallback `filename` for old clients and the exact name in
 * `filename*` (RFC 6266 §4.3, RFC 8187).
 *
 * @example contentDisposition("résumé.pdf") // attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf
 */
export function contentDisposition(name: string, disposition: Disposition = "attachment"): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/gu, "_");
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

export type Disposition = "attachment" | "inline";

/**
 * The only types a signed link may serve inline: raster images, which a browser decodes as pixels
 * and never runs. SVG (scripts), HTML, PDF (scripts, forms, links) and text (sniffing, rendering in
 * the API's origin) are always attachments, whatever is stored or configured.
 */
export const INLINE_TYPES: ReadonlySet<string> = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/**
 * The origin of the page that embeds the response: `Origin` (a CORS-mode `<img crossorigin>`),
 * else the origin of `Referer` (a plain `<img src>` under the default referrer policy).
 */
function embeddingOrigin(request: Request): string | undefined {
  const origin = request.headers.get("Origin");
  if (origin !== null && origin !== "null") return origin;
  const referer = request.headers.get("Referer");
  if (referer === null || !URL.canParse(referer)) return undefined;
  return new URL(referer).origin;
}

/**
 * `Cross-Origin-Resource-Policy` of an inline image: `cross-origin` when the embedding page is one
 * of the configured frontend origins (CORS_ORIGINS), else `same-origin`, which makes browsers refuse
 * to embed it anywhere else. CORP cannot list origins, so the request names the embedder.
 */
export function inlineResourcePolicy(request: Request, frontendOrigins: readonly string[]): "cross-origin" | "same-origin" {
  const embedder = embeddingOrigin(request);
  return embedder !== undefined && frontendOrigins.includes(embedder) ? "cross-origin" : "same-origin";
}

export interface ServeOptions {
  disposition?: Disposition;
  /** Replaces the pipeline's `Cross-Origin-Resource-Policy: same-origin` (inline images only). */
  resourcePolicy?: "cross-origin" | "same-origin";
}

const etagOf = (row: FileRow) => `"${row.sha256}"`;

/** If-None-Match matches when any listed tag equals ours under weak comparison, or it is `*`. */
function noneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

type RangeRequest = { kind: "full" } | { kind: "partial"; offset: number; length: number } | { kind: "unsatisfiable" };

/**
 * One `bytes=` range (RFC 9110 §14.1.2). Malformed and multi-range headers are ignored (the whole
 * file is sent, which the RFC allows); a range that starts past the end is unsatisfiable.
 */
export function parseRange(header: string | null, size: number): RangeRequest {
  if (!header) return { kind: "full" };
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return { kind: "full" };
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "partial", offset: size - length, length };
  }
  const first = Number(match[1]);
  const last = match[2] === "" ? Number.MAX_SAFE_INTEGER : Number(match[2]);
  if (last < first) return { kind: "full" };
  if (first >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", offset: first, length: Math.min(last, size - 1) - first + 1 };
}

function baseHeaders(row: FileRow, options: ServeOptions): Headers {
  const disposition = options.disposition === "inline" && INLINE_TYPES.has(row.contentType) ? "inline" : "attachment";
  const headers = new Headers({
    "Content-Type": isTextType(row.contentType) ? `${row.contentType}; charset=utf-8` : row.contentType,
    "Content-Disposition": contentDisposition(row.name, disposition),
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": DOWNLOAD_CSP,
    "Cache-Control": "private",
    ETag: etagOf(row),
    "Last-Modified": new Date(row.createdAt).toUTCString(),
    "Accept-Ranges": "bytes",
  });
  if (disposition === "inline" && options.resourcePolicy !== undefined) {
    headers.set("Cross-Origin-Resource-Policy", options.resourcePolicy);
    headers.set("Vary", "Origin, Referer");
  }
  return headers;
}

/**
 * The response for a file the caller may read: 304 when `If-None-Match` names its ETag (without
 * touching R2), 206 for a satisfiable range (unless `If-Range` names another version), 416 for an
 * unsatisfiable one, else 200 with the whole object streamed from R2.
 */
export async function serveFile(bucket: R2Bucket, row: FileRow, request: Request, options: ServeOptions = {}): Promise<Response> {
  const headers = baseHeaders(row, options);
  if (noneMatch(request.headers.get("If-None-Match"), etagOf(row))) {
    headers.delete("Content-Type");
    return new Response(null, { status: 304, headers });
  }
  const ifRange = request.headers.get("If-Range");
  const range = ifRange !== null && ifRange.trim() !== etagOf(row) ? ({ kind: "full" } as const) : parseRange(request.headers.get("Range"), row.size);
  if (range.kind === "unsatisfiable") {
    throw new ProblemError("range_not_satisfiable", {
      detail: `The file has ${row.size} bytes.`,
      headers: { "Content-Range": `bytes */${row.size}`, "Accept-Ranges": "bytes" },
    });
  }
  const object = await bucket.get(row.r2Key, range.kind === "partial" ? { range: { offset: range.offset, length: range.length } } : undefined);
  // A row without its object breaks the consistency invariant: a server fault, logged as one.
  if (!object) throw new ProblemError("internal_error", { detail: "The file's content is unavailable.", cause: new Error(`R2 object ${row.r2Key} is missing`) });
  if (range.kind === "partial") {
    headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${row.size}`);
    headers.set("Content-Length", String(range.length));
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(row.size));
  return new Response(object.body, { status: 200, headers });
}
