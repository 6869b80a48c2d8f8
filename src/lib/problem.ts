import { config as zodConfig } from "zod";

/**
 * RFC 9457 problem details: the one error shape of the API.
 *
 * Every error kind has a stable machine `code`; its `type` URI is `<origin>/problems/<code>`
 * (documented by `GET /problems/{code}`), except where a registered IANA type exists.
 */

export const problemCatalog = {
  bad_request: { status: 400, title: "Bad request" },
  invalid_token: { status: 400, title: "Invalid, expired or used token" },
  invalid_json: { status: 400, title: "Malformed JSON body" },
  https_required: { status: 400, title: "HTTPS required" },
  unauthorized: { status: 401, title: "Authentication required" },
  invalid_credentials: { status: 401, title: "Invalid credentials" },
  invalid_refresh_token: { status: 401, title: "Invalid refresh token" },
  invalid_mfa_token: { status: 401, title: "Invalid or expired MFA token" },
  invalid_mfa_code: { status: 401, title: "Invalid second factor" },
  step_up_required: { status: 401, title: "Step-up authentication required" },
  forbidden: { status: 403, title: "Forbidden" },
  email_not_verified: { status: 403, title: "Email address not verified" },
  account_not_approved: { status: 403, title: "Account awaiting approval" },
  account_disabled: { status: 403, title: "Account disabled" },
  current_password_incorrect: { status: 403, title: "Current password incorrect" },
  escalation_denied: { status: 403, title: "Privilege escalation denied" },
  mfa_enrollment_required: { status: 403, title: "Second factor enrollment required" },
  session_required: { status: 403, title: "Signed-in session required" },
  self_role_change: { status: 403, title: "Own roles cannot be changed" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  already_exists: { status: 409, title: "Already exists" },
  last_admin: { status: 409, title: "Last administrator" },
  system_role: { status: 409, title: "System role protected" },
  catalog_permission: { status: 409, title: "Catalog permission protected" },
  role_in_use: { status: 409, title: "Role still assigned" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  range_not_satisfiable: { status: 416, title: "Range not satisfiable" },
  validation_failed: { status: 422, title: "Validation failed" },
  prompt_injection_suspected: { status: 422, title: "Prompt injection suspected" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal_error: { status: 500, title: "Internal server error" },
  service_unavailable: { status: 503, title: "Service unavailable" },
  misconfigured: { status: 503, title: "Service misconfigured" },
  timeout: { status: 504, title: "Request timed out" },
  // AI gateway; after the generic codes so HTTPException statuses map to those first.
  ai_provider_error: { status: 502, title: "AI provider failed" },
  ai_provider_busy: { status: 503, title: "AI provider busy" },
  ai_unavailable: { status: 503, title: "AI not configured" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCatalog;

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** A registered type from the IANA "HTTP Problem Types" registry. */
export const QUOTA_EXCEEDED_TYPE = "https://iana.org/assignments/http-problem-types#quota-exceeded";

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface ProblemInit {
  /** Overrides the catalog's status, e.g. 403 for a code that is usually 401. */
  status?: number;
  detail?: string;
  title?: string;
  /** An absolute type URI that replaces `<origin>/problems/<code>`. */
  type?: string;
  errors?: ValidationIssue[];
  /** Extension members (RFC 9457 §3.2), e.g. `violated-policies`. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** The underlying failure, for the log only. */
  cause?: unknown;
}

/**
 * Thrown by services and middleware; `onError` renders it. Services stay free of Hono because
 * they only throw this.
 */
export class ProblemError extends Error {
  readonly code: ProblemCode;
  readonly init: ProblemInit;

  constructor(code: ProblemCode, init: ProblemInit = {}) {
    super(init.detail ?? problemCatalog[code].title, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ProblemError";
    this.code = code;
    this.init = init;
  }

  get status(): number {
    return this.init.status ?? problemCatalog[this.code].status;
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance: string;
  code: string;
  request_id: string;
  errors?: ValidationIssue[];
  [extension: string]: unknown;
}

/**
 * Builds the problem+json response.
 *
 * @example
 * problemResponse(new ProblemError("not_found", { detail: "No such role" }), { origin, requestId })
 */
export function problemResponse(
  problem: ProblemError,
  context: { origin: string; requestId: string },
): Response {
  const { code, init } = problem;
  const body: ProblemBody = {
    ...init.extensions,
    type: init.type ?? `${context.origin}/problems/${code}`,
    title: init.title ?? problemCatalog[code].title,
    status: problem.status,
    detail: init.detail ?? problemCatalog[code].title,
    instance: context.requestId,
    code,
    request_id: context.requestId,
  };
  if (init.errors) body.errors = init.errors;
  const headers = new Headers(init.headers);
  headers.set("Content-Type", PROBLEM_CONTENT_TYPE);
  headers.set("Cache-Control", "no-store");
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}

/**
 * Bounds of the `errors` list: a hostile body (thousands of invalid items, a megabyte-long key
 * echoed in a message) must not turn into an equally large error response. Documented in OpenAPI.
 */
export const VALIDATION_ISSUE_LIMITS = { issues: 100, pathLength: 256, messageLength: 512 } as const;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** What every missing field says, instead of zod's "Invalid input: expected string, received undefined". */
export const REQUIRED_MESSAGE = "required";

/**
 * zod's issues do not carry the input, so whether a field was absent is decided where zod still
 * has it: its global error map, set once here, beside the one mapping every validation problem
 * goes through. An absent value of any type (string, number, enum, object...) says `required`;
 * a schema's own message still wins.
 */
zodConfig({
  customError: (issue) => (issue.input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value") ? REQUIRED_MESSAGE : undefined),
});

/**
 * Turns zod-style issues into the `errors` list of a validation problem (the first 100, clipped);
 * a missing field's message is `required` (see the error map above).
 */
export function toValidationIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix = "",
): ValidationIssue[] {
  return issues.slice(0, VALIDATION_ISSUE_LIMITS.issues).map((issue) => ({
    path: clip([prefix, ...issue.path.map(String)].filter((part) => part !== "").join("."), VALIDATION_ISSUE_LIMITS.pathLength),
    message: clip(issue.message, VALIDATION_ISSUE_LIMITS.messageLength),
  }));
}
