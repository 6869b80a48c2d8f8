import { z } from "@hono/zod-openapi";
import { configMax } from "../../lib/config-bounds";
import { pageSchema, PaginationQuerySchema } from "../../lib/pagination";

/** The highest MAX_UPLOAD_BYTES the configuration accepts (src/config.ts). */
const MAX_UPLOAD_CEILING = 100 * 1_048_576;
const FILE_ID_EXAMPLE = "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47";

export const CategorySchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "letters, digits, `_` and `-`, at most 64, starting with a letter or digit")
  .openapi({ description: "A free label chosen by the uploader, for filtering", example: "invoices" });

export const FileSchema = z
  .object({
    id: z.uuid().openapi({ example: FILE_ID_EXAMPLE }),
    name: z.string().min(1).max(255).openapi({ description: "The sanitized original name; display only, never a storage path", example: "report.pdf" }),
    content_type: z.string().max(100).openapi({ description: "Decided from the content, not from the name", example: "application/pdf" }),
    size: z.number().int().min(1).max(MAX_UPLOAD_CEILING).openapi({ description: "Bytes", example: 48213 }),
    sha256: z.string().length(64).regex(/^[0-9a-f]{64}$/).openapi({ description: "Lower-case hex SHA-256 of the content; also the ETag" }),
    category: CategorySchema.nullable(),
    owner_id: z.uuid(),
    created_at: z.iso.datetime().max(30).openapi({ example: "2026-05-01T12:00:00.000Z" }),
  })
  .openapi("File");

export const FileListSchema = pageSchema(FileSchema, "FileList");

export const FileIdParamSchema = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: FILE_ID_EXAMPLE }),
});

export const ListFilesQuerySchema = PaginationQuerySchema.extend({
  category: CategorySchema.optional().openapi({ param: { name: "category", in: "query" } }),
  owner: z
    .uuid()
    .optional()
    .openapi({ param: { name: "owner", in: "query" }, description: "Another user's files; needs files:read_any" }),
});

/**
 * The multipart body. Parsed by the route's validator only after the body was read under
 * MAX_UPLOAD_BYTES; the content checks (type, name) happen in files.validation.ts.
 */
export const UploadFormSchema = z
  .object({
    file: z
      .instanceof(File, { message: "must be a file part (with a filename)" })
      .openapi({ type: "string", format: "binary", maxLength: MAX_UPLOAD_CEILING, description: "The file; at most MAX_UPLOAD_BYTES (default 10 MiB)" }),
    category: CategorySchema.optional(),
  })
  .openapi("FileUpload");

export const CreateLinkBodySchema = z
  .object({
    expires_in: z
      .number()
      .int()
      .min(10)
      .max(3_600)
      .optional()
      .openapi({ ...configMax("FILE_LINK_TTL"), description: "Seconds the link stays valid; at most FILE_LINK_TTL, which is also the default", example: 300 }),
  })
  .strict()
  .openapi("CreateFileLinkRequest");

export const FileLinkSchema = z
  .object({
    url: z.url().max(2048).openapi({ description: "Works without an Authorization header until `expires_at`" }),
    expires_at: z.iso.datetime().max(30),
  })
  .openapi("FileLink");

/** Lenient on purpose: a malformed link answers the same 403 as a forged one, not a 422 that tells them apart. */
export const DownloadQuerySchema = z.object({
  expires: z.string().max(32).optional().openapi({ param: { name: "expires", in: "query" }, description: "Unix seconds, as issued" }),
  signature: z.string().max(128).optional().openapi({ param: { name: "signature", in: "query" }, description: "HMAC-SHA256, base64url, as issued" }),
  disposition: z
    .enum(["attachment", "inline"])
    .optional()
    .openapi({
      param: { name: "disposition", in: "query" },
      description:
        "`inline` serves a PNG, JPEG, GIF or WebP image for `<img src>`, embeddable by the CORS_ORIGINS pages " +
        "(`Cross-Origin-Resource-Policy: cross-origin` when `Origin` or `Referer` names one of them); any other type " +
        "is a 422 (SVG, HTML, PDF and text are never inline). Default `attachment`.",
    }),
});

/** The body of a download: the stored bytes. */
export const FileContentSchema = z.string().openapi({ format: "binary", maxLength: MAX_UPLOAD_CEILING });

/** The headers every download carries (GET /files/{id}/content and signed links). */
export const DownloadHeadersSchema = z.object({
  "Content-Disposition": z.string().max(1024).openapi({
    description: "`attachment`, or `inline` for an image on a signed link with `disposition=inline`",
    example: "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf",
  }),
  "Cross-Origin-Resource-Policy": z.enum(["same-origin", "cross-origin"]).openapi({
    description: "`same-origin`, except an inline image requested from a CORS_ORIGINS page: `cross-origin`",
  }),
  "Content-Security-Policy": z.literal("sandbox; default-src 'none'"),
  "X-Content-Type-Options": z.literal("nosniff"),
  "Cache-Control": z.literal("private"),
  ETag: z.string().max(66).openapi({ description: "The quoted SHA-256 of the content" }),
  "Accept-Ranges": z.literal("bytes"),
});

export const RangeHeadersSchema = DownloadHeadersSchema.extend({
  "Content-Range": z.string().max(64).openapi({ example: "bytes 0-1023/48213" }),
});

export type FileRecord = z.infer<typeof FileSchema>;
export type ListFilesQuery = z.infer<typeof ListFilesQuerySchema>;
