import { z } from "@hono/zod-openapi";
import { pageSchema, PaginationQuerySchema } from "../../lib/pagination";

export const DocumentSchema = z
  .object({
    id: z.uuid(),
    file_id: z.uuid(),
    file_name: z.string().max(255).nullable(),
    status: z.enum(["queued", "indexing", "ready", "failed"]),
    failure_reason: z.string().max(500).nullable().openapi({ description: "Why indexing failed (or is being retried)" }),
    chunk_count: z.number().int().min(0).max(100_000),
    created_at: z.iso.datetime().max(30),
    updated_at: z.iso.datetime().max(30),
  })
  .openapi("AiDocument");

export const DocumentPageSchema = pageSchema(DocumentSchema, "AiDocumentPage");
export const ListDocumentsQuerySchema = PaginationQuerySchema;

export const CreateDocumentSchema = z.object({ file_id: z.uuid().openapi({ description: "One of your uploads" }) }).strict().openapi("CreateDocumentRequest");

export const CreatedDocumentSchema = z.object({ document_id: z.uuid(), status: z.enum(["queued"]) }).openapi("CreatedDocument");

export const DocumentIdParamSchema = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});

export const SearchRequestSchema = z
  .object({
    query: z.string().trim().min(1).max(2_000),
    limit: z.number().int().min(1).max(50).default(10),
    document_ids: z.array(z.uuid()).min(1).max(50).optional(),
  })
  .strict()
  .openapi("SearchRequest");

export const SearchResponseSchema = z
  .object({
    items: z
      .array(
        z.object({
          document_id: z.uuid(),
          chunk: z.number().int().min(0).max(100_000),
          score: z.number().min(0).max(1),
          text: z.string().max(10_000),
        }),
      )
      .max(50),
  })
  .openapi("SearchResponse");
