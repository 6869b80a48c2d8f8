import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { principalOf, requirePermission } from "../../middleware/auth";
import { aiGuard, gatewayDeps } from "./ai.context";
import {
  CreateDocumentSchema,
  CreatedDocumentSchema,
  DocumentIdParamSchema,
  DocumentPageSchema,
  DocumentSchema,
  ListDocumentsQuerySchema,
  SearchRequestSchema,
  SearchResponseSchema,
} from "./ai.documents.schemas";
import { createDocument, deleteDocument, getDocument, listDocuments } from "./ai.documents.service";
import { searchPassages } from "./ai.search";

export const aiDocumentRoutes = new OpenAPIHono<AppEnv>();

const createDocumentRoute = createRoute({
  method: "post",
  path: "/ai/documents",
  operationId: "createAiDocument",
  tags: ["AI"],
  summary: "Index one of your uploads for search and chat (text, Markdown, CSV, JSON, PDF)",
  description: "Extraction, chunking and embedding run in the background (a queue with retries); poll GET /ai/documents/{id}.",
  ...requirePermission("ai:use"),
  request: { body: jsonBody(CreateDocumentSchema) },
  responses: { ...errorResponses(401, 403, 404, 409, 422, 429, 503), 202: jsonContent(CreatedDocumentSchema, "Queued") },
});

aiDocumentRoutes.openapi(createDocumentRoute, async (c) => {
  const document = await createDocument(createDb(c.env.DB), c.env, principalOf(c).userId, c.req.valid("json").file_id, Date.now());
  c.header("Location", `/api/v1/ai/documents/${document.id}`);
  return c.json({ document_id: document.id, status: "queued" as const }, 202);
});

const listDocumentsRoute = createRoute({
  method: "get",
  path: "/ai/documents",
  operationId: "listAiDocuments",
  tags: ["AI"],
  summary: "Your documents with their indexing status, newest first",
  ...requirePermission("ai:use"),
  request: { query: ListDocumentsQuerySchema },
  responses: { ...errorResponses(401, 403, 429), 200: jsonContent(DocumentPageSchema, "One page") },
});

aiDocumentRoutes.openapi(listDocumentsRoute, async (c) => {
  c.header("Cache-Control", "no-store");
  return c.json(await listDocuments(createDb(c.env.DB), principalOf(c).userId, c.req.valid("query")), 200);
});

const getDocumentRoute = createRoute({
  method: "get",
  path: "/ai/documents/{id}",
  operationId: "getAiDocument",
  tags: ["AI"],
  summary: "One of your documents",
  ...requirePermission("ai:use"),
  request: { params: DocumentIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 200: jsonContent(DocumentSchema, "The document") },
});

aiDocumentRoutes.openapi(getDocumentRoute, async (c) => {
  c.header("Cache-Control", "no-store");
  return c.json(await getDocument(createDb(c.env.DB), principalOf(c).userId, c.req.valid("param").id), 200);
});

const deleteDocumentRoute = createRoute({
  method: "delete",
  path: "/ai/documents/{id}",
  operationId: "deleteAiDocument",
  tags: ["AI"],
  summary: "Delete one of your documents and every vector of it (the upload stays)",
  ...requirePermission("ai:use"),
  request: { params: DocumentIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "Deleted" } },
});

aiDocumentRoutes.openapi(deleteDocumentRoute, async (c) => {
  await deleteDocument(createDb(c.env.DB), c.get("config"), c.env, principalOf(c).userId, c.req.valid("param").id);
  return c.body(null, 204);
});

const searchRoute = createRoute({
  method: "post",
  path: "/ai/search",
  operationId: "searchAiDocuments",
  tags: ["AI"],
  summary: "Passages from your ready documents, best first",
  description: "Only your own documents are searched, whatever ids are sent (another user's id is a 404).",
  ...aiGuard("ai:use"),
  request: { body: jsonBody(SearchRequestSchema) },
  responses: { ...errorResponses(401, 403, 404, 409, 422, 429, 502, 503), 200: jsonContent(SearchResponseSchema, "The passages") },
});

aiDocumentRoutes.openapi(searchRoute, async (c) => c.json(await searchPassages(gatewayDeps(c), c.req.valid("json")), 200));
