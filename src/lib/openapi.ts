import { z } from "@hono/zod-openapi";
import { problemCatalog } from "./problem";

/** The RFC 9457 body every error response shares, as documented in /openapi.json. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "https://api.example.com/problems/not_found" }),
    title: z.string().openapi({ example: "Not found" }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().optional().openapi({ example: "No such resource." }),
    instance: z.string().openapi({ description: "The request id", example: "0b5c2f7e-4f4e-4d7b-9a43-8f7c2b5f8a10" }),
    code: z.string().openapi({ example: "not_found" }),
    request_id: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Every invalid field (422 only)" }),
  })
  .openapi("Problem");

const statusDescriptions: Record<number, string> = {
  400: "Malformed request (for example a body that is not valid JSON)",
  401: "Missing, invalid or expired access token",
  403: "Authenticated but not allowed",
  404: "No such resource (also for resources of other users)",
  409: "Conflict with the current state",
  413: "Body larger than the limit",
  415: "Unsupported content type",
  422: "Validation failed; `errors` lists every invalid field",
  429: "Rate limit exceeded",
  500: "Unexpected error (details are in the log, never in the body)",
  503: "A dependency is unavailable or the service is misconfigured",
  504: "The request took longer than REQUEST_TIMEOUT_MS",
};

const requestIdHeader = {
  "X-Request-Id": { description: "The request id, also the problem's `instance`", schema: { type: "string" as const } },
};

function problemResponse(status: number) {
  return {
    description: statusDescriptions[status] ?? Object.values(problemCatalog).find((p) => p.status === status)?.title ?? "Error",
    headers: requestIdHeader,
    content: { "application/problem+json": { schema: ProblemSchema } },
  };
}

/** Responses every route can give, whatever it does. */
const COMMON_ERROR_STATUSES = [400, 413, 415, 422, 500, 503, 504] as const;

/**
 * The shared error responses for a route's `responses`, plus the route-specific ones.
 *
 * @example
 * responses: { 200: jsonContent(UserSchema, "The user"), ...errorResponses(401, 403, 404) }
 */
export function errorResponses(...statuses: number[]) {
  const all = [...new Set([...COMMON_ERROR_STATUSES, ...statuses])].sort();
  return Object.fromEntries(all.map((status) => [status, problemResponse(status)]));
}

/** A JSON response entry for `responses`. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, headers: requestIdHeader, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}
