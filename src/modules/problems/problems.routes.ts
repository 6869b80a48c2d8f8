import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { errorResponses, jsonContent } from "../../lib/openapi";
import { problemCatalog, ProblemError, type ProblemCode } from "../../lib/problem";
import { problemExplanations } from "../../lib/problem-explanations";

export const problemRoutes = new OpenAPIHono<AppEnv>();

const ProblemTypeSchema = z
  .object({
    code: z.string().max(64).openapi({ example: "validation_failed" }),
    status: z.number().int().min(400).max(599),
    title: z.string().max(200),
    meaning: z.string().max(500).openapi({ description: "What this problem means, in terms of the request" }),
    action: z.string().max(500).openapi({ description: "What a client should do about it" }),
    retryable: z.boolean().openapi({ description: "Whether the same request, unchanged, can succeed later (after `Retry-After` where given)" }),
  })
  .openapi("ProblemType");

const listProblemTypes = createRoute({
  method: "get",
  path: "/problems",
  operationId: "listProblemTypes",
  tags: ["Problems"],
  summary: "Every error type the API answers with",
  responses: { ...errorResponses(), 200: jsonContent(z.object({ items: z.array(ProblemTypeSchema).max(Object.keys(problemCatalog).length) }), "The catalog") },
});

const toType = (code: ProblemCode) => ({ code, ...problemCatalog[code], ...problemExplanations[code] });

problemRoutes.openapi(listProblemTypes, (c) => {
  c.header("Cache-Control", "public, max-age=3600");
  return c.json({ items: (Object.keys(problemCatalog) as ProblemCode[]).map(toType) }, 200);
});

const getProblemType = createRoute({
  method: "get",
  path: "/problems/{code}",
  operationId: "getProblemType",
  tags: ["Problems"],
  summary: "The meaning of one error type (the target of a problem's `type` URI) and what a client should do",
  request: { params: z.object({ code: z.string().max(64).openapi({ example: "not_found" }) }) },
  responses: { ...errorResponses(404), 200: jsonContent(ProblemTypeSchema, "The error type") },
});

problemRoutes.openapi(getProblemType, (c) => {
  const { code } = c.req.valid("param");
  if (!Object.hasOwn(problemCatalog, code)) throw new ProblemError("not_found", { detail: "No such problem type." });
  c.header("Cache-Control", "public, max-age=3600");
  return c.json(toType(code as ProblemCode), 200);
});
