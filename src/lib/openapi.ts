// What every route definition needs for `npm run lint:openapi` (Spectral + OWASP API ruleset, 0 errors):
// - every string has `.max()` (or is an enum/literal), every array `.max()`, every integer
//   `.int().min().max()`; the int32/int64 format and the length of uuid strings are filled in by the
//   document builder (modules/docs/openapi-document.ts), as are X-Request-Id and the CORS header;
// - a write route anyone may call says so: `security: PUBLIC_ACCESS`;
// - a rate-limited route declares its 429; the builder adds RateLimit, RateLimit-Policy and Retry-After.
import { z } from "@hono/zod-openapi";
import { problemCatalog, VALIDATION_ISSUE_LIMITS, type ProblemCode } from "./problem";

/** What a request id looks like, inbound (when accepted) or generated (a UUID). */
const REQUEST_ID = { maxLength: 64, pattern: "^[A-Za-z0-9._-]{1,64}$" } as const;

const RequestIdSchema = z
  .string()
  .max(REQUEST_ID.maxLength)
  .regex(new RegExp(REQUEST_ID.pattern))
  .openapi({ description: "The request id", example: "0b5c2f7e-4f4e-4d7b-9a43-8f7c2b5f8a10" });

/** The RFC 9457 body every error response shares, as documented in /openapi.json. */
export const ProblemSchema = z
  .object({
    type: z.url().max(2048).openapi({ example: "https://api.example.com/problems/not_found" }),
    title: z.string().max(200).openapi({ example: "Not found" }),
    status: z.number().int().min(400).max(599).openapi({ example: 404 }),
    detail: z.string().max(2000).optional().openapi({ example: "No such resource." }),
    instance: RequestIdSchema,
    code: z.enum(Object.keys(problemCatalog) as [ProblemCode, ...ProblemCode[]]).openapi({ example: "not_found" }),
    request_id: RequestIdSchema,
    errors: z
      .array(
        z.object({
          path: z.string().max(VALIDATION_ISSUE_LIMITS.pathLength),
          message: z.string().max(VALIDATION_ISSUE_LIMITS.messageLength),
        }),
      )
      .max(VALIDATION_ISSUE_LIMITS.issues)
      .optional()
      .openapi({ description: "Every invalid field (422 only), at most the first 100" }),
  })
  .openapi("Problem");

/**
 * Response headers the pipeline sets, registered once under `components.headers` and referenced
 * from every response by the document builder (see modules/docs/openapi-document.ts), so a route
 * definition cannot forget them.
 */
export const responseHeaderComponents = {
  "X-Request-Id": {
    description: "The request id (the inbound `X-Request-Id` when valid, otherwise generated); the problem's `instance`",
    required: true,
    schema: { type: "string", ...REQUEST_ID },
  },
  "Access-Control-Allow-Origin": {
    description: "The request's `Origin`, only when it is listed in CORS_ORIGINS (never `*` or `null`); absent otherwise",
    schema: { type: "string", format: "uri", maxLength: 2048 },
  },
  RateLimit: {
    description: 'Rate-limited routes only: `"<policy>";r=<remaining>;t=<seconds until reset>` per policy (draft-ietf-httpapi-ratelimit-headers-10)',
    schema: { type: "string", maxLength: 1024, example: '"login";r=2;t=412' },
  },
  "RateLimit-Policy": {
    description: 'Rate-limited routes only: `"<policy>";q=<quota>;w=<window seconds>` per policy (draft-ietf-httpapi-ratelimit-headers-10)',
    schema: { type: "string", maxLength: 1024, example: '"login";q=5;w=900' },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying",
    required: true,
    schema: { type: "integer", format: "int32", minimum: 0, maximum: 31_536_000 },
  },
} as const;

const statusDescriptions: Record<number, string> = {
  400: "Malformed request (for example a body that is not valid JSON)",
  401: "Missing, invalid or expired access token",
  403: "Authenticated but not allowed",
  404: "No such resource (also for resources of other users)",
  409: "Conflict with the current state",
  413: "Body larger than the limit",
  415: "Unsupported content type",
  422: "Validation failed; `errors` lists every invalid field",
  429: "Rate limit exceeded; retry after `Retry-After` seconds",
  500: "Unexpected error (details are in the log, never in the body)",
  503: "A dependency is unavailable or the service is misconfigured",
  504: "The request took longer than REQUEST_TIMEOUT_MS",
};

function problemResponse(status: number) {
  return {
    description: statusDescriptions[status] ?? Object.values(problemCatalog).find((p) => p.status === status)?.title ?? "Error",
    content: { "application/problem+json": { schema: ProblemSchema } },
  };
}

/** Responses every route can give, whatever it does. */
const COMMON_ERROR_STATUSES = [400, 413, 415, 422, 500, 503, 504] as const;

/**
 * The shared error responses for a route's `responses`, plus the route-specific ones. A route
 * that declares 429 is documented as rate limited: the document builder adds the RateLimit
 * headers to its 2xx/4xx responses and `Retry-After` to the 429.
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
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}

/**
 * `security` for a route anyone may call (login, registration, password reset). OpenAPI reads an
 * empty requirement as "anonymous allowed"; leaving `security` out instead reads as forgotten, and
 * the OWASP lint rejects unauthenticated write operations that do not say so explicitly.
 *
 * @example
 * createRoute({ method: "post", path: "/api/v1/auth/login", security: PUBLIC_ACCESS, ... })
 */
export const PUBLIC_ACCESS: Array<Record<string, string[]>> = [{}];
