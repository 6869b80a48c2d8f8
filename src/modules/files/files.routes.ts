import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { files } from "../../db/schema";
import type { AppEnv } from "../../bindings";
import { drainBody, readBodyWithLimit } from "../../lib/body";
import { assertConfigMax } from "../../lib/config-bounds";
import { errorResponses, jsonContent, ProblemSchema } from "../../lib/openapi";
import { ProblemError } from "../../lib/problem";
import { principalOf, requireAnyPermission, requirePermission } from "../../middleware/auth";
import { filesDeps } from "./files.context";
import { createDownloadLink, verifyDownloadLink } from "./files.links";
import {
  CreateLinkBodySchema,
  DownloadHeadersSchema,
  DownloadQuerySchema,
  FileContentSchema,
  FileIdParamSchema,
  FileLinkSchema,
  FileListSchema,
  FileSchema,
  ListFilesQuerySchema,
  RangeHeadersSchema,
  UploadFormSchema,
} from "./files.schemas";
import { INLINE_TYPES, inlineResourcePolicy, serveFile } from "./files.serve";
import { FILE_TYPES } from "./files.validation";
import { prepareVectorRemoval } from "../ai/ai.documents.service";
import { deleteFile, findAccessibleFile, listFiles, toFileRecord, uploadFile } from "./files.service";

export const fileRoutes = new OpenAPIHono<AppEnv>();

/** Room for the multipart framing around the file: boundaries, part headers, the category field. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

function tooLarge(maxBytes: number): ProblemError {
  return new ProblemError("payload_too_large", {
    detail: `The file exceeds the limit of ${maxBytes} bytes.`,
    extensions: { max_bytes: maxBytes },
  });
}

/**
 * Runs first on uploads (the pipeline does not buffer them): refuses a declared Content-Length
 * over the limit before authenticating, and reads whatever body a refused request left unread, so
 * `wrangler dev` and workerd keep the connection usable.
 */
const uploadGate = createMiddleware<AppEnv>(async (c, next) => {
  const body = c.req.raw.body;
  const maxBytes = c.get("config").MAX_UPLOAD_BYTES;
  const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD_BYTES) {
    await drainBody(body);
    throw tooLarge(maxBytes);
  }
  await next();
  await drainBody(body);
});

/** After authentication: reads the multipart body, counting bytes whatever Content-Length claimed. */
const readUpload = createMiddleware<AppEnv>(async (c, next) => {
  if (!/^multipart\/form-data\s*;/i.test(c.req.header("Content-Type") ?? "")) {
    throw new ProblemError("unsupported_media_type", {
      detail: "Send the file as multipart/form-data with a `file` part.",
      headers: { "Accept-Post": "multipart/form-data" },
    });
  }
  const maxBytes = c.get("config").MAX_UPLOAD_BYTES;
  const result = await readBodyWithLimit(c.req.raw.body, maxBytes + MULTIPART_OVERHEAD_BYTES);
  if (!result.ok) throw tooLarge(maxBytes);
  c.req.raw = new Request(c.req.raw, { body: result.bytes });
  await next();
});

const uploadGuard = requirePermission("files:write");

const uploadFileRoute = createRoute({
  method: "post",
  path: "/files",
  operationId: "uploadFile",
  tags: ["Files"],
  summary: "Upload a file (multipart/form-data: `file`, optional `category`)",
  description:
    "The type is decided by the content (magic bytes; strict UTF-8 for text) and must agree with the " +
    "name's extension and the part's declared type, else 415. Allowed by default: plain text, Markdown, " +
    "CSV, JSON, PDF, PNG, JPEG, GIF, WebP (UPLOAD_ALLOWED_TYPES). Over MAX_UPLOAD_BYTES or over the " +
    "caller's FILES_QUOTA_BYTES: 413 (the quota problem carries `quota_bytes`, `used_bytes`, " +
    "`requested_bytes`). Empty files and names with path separators or control characters: 422.",
  ...uploadGuard,
  middleware: [uploadGate, ...uploadGuard.middleware, readUpload],
  request: { body: { required: true, content: { "multipart/form-data": { schema: UploadFormSchema } } } },
  responses: {
    ...errorResponses(401, 403, 429),
    201: {
      ...jsonContent(FileSchema, "The stored file's metadata"),
      headers: z.object({ Location: z.string().max(200).openapi({ description: "The file's URL" }) }),
    },
  },
});

fileRoutes.openapi(uploadFileRoute, async (c) => {
  const { file, category } = c.req.valid("form");
  const record = await uploadFile(filesDeps(c), principalOf(c).userId, { file, category });
  c.header("Location", `/api/v1/files/${record.id}`);
  return c.json(record, 201);
});

const listFilesRoute = createRoute({
  method: "get",
  path: "/files",
  operationId: "listFiles",
  tags: ["Files"],
  summary: "The caller's files, newest first, cursor-paginated; `owner` (another user) needs files:read_any",
  ...requireAnyPermission("files:read", "files:read_any"),
  request: { query: ListFilesQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(FileListSchema, "One page of files") },
});

fileRoutes.openapi(listFilesRoute, async (c) => {
  const page = await listFiles(filesDeps(c), principalOf(c), c.req.valid("query"));
  c.header("Cache-Control", "no-store");
  return c.json(page, 200);
});

const getFileRoute = createRoute({
  method: "get",
  path: "/files/{id}",
  operationId: "getFile",
  tags: ["Files"],
  summary: "A file's metadata (another user's file answers 404 without files:read_any)",
  ...requireAnyPermission("files:read", "files:read_any"),
  request: { params: FileIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(FileSchema, "The file's metadata") },
});

fileRoutes.openapi(getFileRoute, async (c) => {
  const row = await findAccessibleFile(filesDeps(c), principalOf(c), c.req.valid("param").id, "read");
  c.header("Cache-Control", "no-store");
  return c.json(toFileRecord(row), 200);
});

/**
 * What a download really sends: the stored type, one of FILE_TYPES (text types with
 * `; charset=utf-8`). Declared per type so a client generator and the document agree with the wire.
 */
const fileContent = Object.fromEntries(Object.keys(FILE_TYPES).map((type) => [type, { schema: FileContentSchema }]));

const contentResponses = {
  ...errorResponses(404, 429),
  200: {
    description: "The whole file, streamed from R2, with its stored type (text types with `; charset=utf-8`), as a download",
    headers: DownloadHeadersSchema,
    content: fileContent,
  },
  206: {
    description: "The requested byte range (`Content-Range` says which), with the stored type",
    headers: RangeHeadersSchema,
    content: fileContent,
  },
  304: { description: "`If-None-Match` named the current ETag", headers: DownloadHeadersSchema.pick({ ETag: true, "Cache-Control": true }) },
  416: {
    description: "The range starts past the end; `Content-Range: bytes */<size>`",
    content: { "application/problem+json": { schema: ProblemSchema } },
  },
};

const getContentRoute = createRoute({
  method: "get",
  path: "/files/{id}/content",
  operationId: "getFileContent",
  tags: ["Files"],
  summary: "The file's bytes, with ETag revalidation (304) and Range requests (206)",
  ...requireAnyPermission("files:read", "files:read_any"),
  request: { params: FileIdParamSchema },
  responses: { ...contentResponses, ...errorResponses(401, 403, 404, 429) },
});

fileRoutes.openapi(getContentRoute, async (c) => {
  const row = await findAccessibleFile(filesDeps(c), principalOf(c), c.req.valid("param").id, "read");
  return serveFile(c.env.FILES, row, c.req.raw);
});

const createLinkRoute = createRoute({
  method: "post",
  path: "/files/{id}/link",
  operationId: "createFileLink",
  tags: ["Files"],
  summary: "A signed download URL that works without an Authorization header until it expires",
  description: "Valid for `expires_in` seconds (default and maximum: FILE_LINK_TTL, 5 minutes unless configured).",
  ...requireAnyPermission("files:read", "files:read_any"),
  request: { params: FileIdParamSchema, body: { required: false, content: { "application/json": { schema: CreateLinkBodySchema } } } },
  responses: { ...errorResponses(401, 403, 404, 429), 201: jsonContent(FileLinkSchema, "The link and its expiry") },
});

fileRoutes.openapi(createLinkRoute, async (c) => {
  const deps = filesDeps(c);
  const row = await findAccessibleFile(deps, principalOf(c), c.req.valid("param").id, "read");
  const requested = c.req.valid("json").expires_in;
  if (requested !== undefined) assertConfigMax(deps.config, "FILE_LINK_TTL", requested, "body.expires_in");
  const link = await createDownloadLink(deps.config, row.id, requested ?? deps.config.FILE_LINK_TTL, deps.now);
  c.header("Cache-Control", "no-store");
  return c.json({ url: link.url, expires_at: new Date(link.expires * 1000).toISOString() }, 201);
});

const downloadRoute = createRoute({
  method: "get",
  path: "/files/{id}/download",
  operationId: "downloadFileWithLink",
  tags: ["Files"],
  summary: "Public: download through a signed link from POST /files/{id}/link (no Authorization header)",
  description:
    "The signature is the credential. A forged, altered or expired link answers 403; a deleted file 404. " +
    "With `disposition=inline` an image can be an `<img src>` on the CORS_ORIGINS pages (docs/files.md).",
  request: { params: FileIdParamSchema, query: DownloadQuerySchema },
  responses: { ...contentResponses, ...errorResponses(403, 404, 429) },
});

fileRoutes.openapi(downloadRoute, async (c) => {
  const { id } = c.req.valid("param");
  const { expires, signature, disposition } = c.req.valid("query");
  const deps = filesDeps(c);
  const check = await verifyDownloadLink(deps.config, id, expires ?? "", signature ?? "", deps.now);
  if (check !== "valid") {
    throw new ProblemError("forbidden", { detail: check === "expired" ? "The download link has expired." : "The download link is invalid." });
  }
  const row = await deps.db.select().from(files).where(eq(files.id, id)).get();
  if (!row) throw new ProblemError("not_found", { detail: "No such file." });
  if (disposition !== "inline") return serveFile(c.env.FILES, row, c.req.raw);
  if (!INLINE_TYPES.has(row.contentType)) {
    throw new ProblemError("validation_failed", {
      detail: "Only PNG, JPEG, GIF and WebP images can be served inline.",
      errors: [{ path: "query.disposition", message: `inline is not allowed for ${row.contentType}; use attachment` }],
    });
  }
  return serveFile(c.env.FILES, row, c.req.raw, { disposition: "inline", resourcePolicy: inlineResourcePolicy(c.req.raw, deps.config.CORS_ORIGINS) });
});

const deleteFileRoute = createRoute({
  method: "delete",
  path: "/files/{id}",
  operationId: "deleteFile",
  tags: ["Files"],
  summary: "Delete a file and its stored bytes: the owner (files:write) or files:delete_any",
  ...requireAnyPermission("files:write", "files:delete_any"),
  request: { params: FileIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "The file is deleted" } },
});

fileRoutes.openapi(deleteFileRoute, async (c) => {
  const { id } = c.req.valid("param");
  const deps = filesDeps(c);
  // An indexed file's document and passages cascade in D1; vectors kept elsewhere go after it.
  const removeVectors = await prepareVectorRemoval(deps.db, c.get("config"), c.env, { fileId: id });
  await deleteFile(deps, principalOf(c), id);
  await removeVectors();
  return c.body(null, 204);
});
