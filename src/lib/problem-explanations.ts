/**
 * What each problem code means and what a client should do about it: the body of
 * `GET /problems/{code}`, the target of every problem's `type` URI. Typed over every code of the
 * catalog, so a new code does not compile until it is explained here.
 */
import type { ProblemCode } from "./problem";

export interface ProblemExplanation {
  /** What happened, in terms of the request. */
  meaning: string;
  /** What the client should do next; "retry" only where retrying can help. */
  action: string;
  /** Whether repeating the same request unchanged can succeed later. */
  retryable: boolean;
}

export const problemExplanations: Record<ProblemCode, ProblemExplanation> = {
  bad_request: {
    meaning: "The request is malformed in a way no field-level check describes (for example a header or parameter the route cannot read).",
    action: "Fix the request as `detail` says; sending it again unchanged fails the same way.",
    retryable: false,
  },
  invalid_token: {
    meaning: "The emailed token (verification or password reset) is unknown, expired, already used, or replaced by a newer one. Which of these is not said, on purpose.",
    action: "Ask for a new email (POST /api/v1/auth/resend-verification or /auth/password/forgot) and use the newest link once.",
    retryable: false,
  },
  invalid_json: {
    meaning: "The body is not valid JSON.",
    action: "Send a well-formed JSON body with `Content-Type: application/json`.",
    retryable: false,
  },
  https_required: {
    meaning: "A request other than GET or HEAD arrived over plain HTTP in staging or production; it was refused before anything happened, and any credential it carried may have been exposed.",
    action: "Use the https:// URL. Rotate a credential that was sent over http.",
    retryable: false,
  },
  unauthorized: {
    meaning: "No valid credential: the bearer token is missing, malformed, expired, signed by an unknown key, or its session has ended.",
    action: "Refresh the access token (POST /api/v1/auth/refresh) and retry once; if that fails, sign in again.",
    retryable: false,
  },
  invalid_credentials: {
    meaning: "The email and password do not match an account. Unknown emails get the same answer, so nothing tells which was wrong.",
    action: "Ask the person to check both; offer the password reset. Repeated failures lock the account for a while (429).",
    retryable: false,
  },
  invalid_refresh_token: {
    meaning: "The refresh token is unknown, expired, already rotated, or its session has ended. Reuse of a rotated token ends the whole session.",
    action: "Sign in again. Never retry with the same refresh token; keep only the newest one, in one place.",
    retryable: false,
  },
  invalid_mfa_token: {
    meaning: "The mfa_token from the login is unknown, expired (MFA_TOKEN_TTL) or already used.",
    action: "Sign in with the password again to get a new mfa_token.",
    retryable: false,
  },
  invalid_mfa_code: {
    meaning: "The second factor (TOTP code, recovery code or passkey response) is not valid, already used, or answers another challenge.",
    action: "Try the next code or a fresh passkey ceremony; wrong attempts are limited per mfa_token and per account.",
    retryable: false,
  },
  step_up_required: {
    meaning: "This action needs a second factor verified within MFA_STEP_UP_WINDOW (docs/mfa.md).",
    action: "POST /api/v1/auth/mfa/step-up with a code or passkey, then repeat the request.",
    retryable: false,
  },
  forbidden: {
    meaning: "The caller is known but lacks the permission this operation needs (named in `detail`), or a signed link is invalid or expired.",
    action: "Do not retry. Ask an administrator for the permission, or request a new signed link.",
    retryable: false,
  },
  email_not_verified: {
    meaning: "The password was right, but the account's email address is not confirmed yet.",
    action: "Ask the person to open the verification email; offer POST /api/v1/auth/resend-verification.",
    retryable: false,
  },
  account_not_approved: {
    meaning: "The password was right, but an administrator has not approved the account yet.",
    action: "Tell the person to wait for approval; retrying does not help until then.",
    retryable: false,
  },
  account_disabled: {
    meaning: "The account is disabled by an administrator.",
    action: "Do not retry; the person must contact an administrator.",
    retryable: false,
  },
  current_password_incorrect: {
    meaning: "The current password given with a password change is wrong. Five wrong attempts in 15 minutes lock password changes (429).",
    action: "Ask the person to re-enter the current password, or to use the password reset instead.",
    retryable: false,
  },
  mfa_enrollment_required: {
    meaning: "The caller holds a permission listed in MFA_REQUIRED_PERMISSIONS and has no second factor yet.",
    action: "Set up an authenticator app (POST /api/v1/auth/mfa/totp) or a passkey, then repeat the request.",
    retryable: false,
  },
  session_required: {
    meaning: "This action needs a signed-in user's session (an access token); an API key cannot perform it (it cannot prove a second factor).",
    action: "Sign in (POST /api/v1/auth/login), step up if asked, and repeat the request with the access token.",
    retryable: false,
  },
  escalation_denied: {
    meaning: "The change would grant permissions the caller does not hold (roles and permissions can only be handed on, never created from nothing).",
    action: "Do not retry; someone holding those permissions must make the change.",
    retryable: false,
  },
  self_role_change: {
    meaning: "Callers cannot change their own roles.",
    action: "Ask another administrator to make the change.",
    retryable: false,
  },
  not_found: {
    meaning: "No such resource, or no route at this path. Resources of other users answer the same, so existence is not revealed.",
    action: "Check the identifier and the path; do not retry unchanged.",
    retryable: false,
  },
  method_not_allowed: {
    meaning: "The path exists, but not with this HTTP method.",
    action: "Use one of the methods listed in the `Allow` header.",
    retryable: false,
  },
  conflict: {
    meaning: "The request conflicts with the resource's current state.",
    action: "Read the resource again, then decide whether the change still applies.",
    retryable: false,
  },
  already_exists: {
    meaning: "A resource with this unique name or value already exists.",
    action: "Use another name, or use the existing resource.",
    retryable: false,
  },
  last_admin: {
    meaning: "The change would leave nobody holding the administrator role (or a permission only it grants).",
    action: "Give the role to another active user first, then repeat the change.",
    retryable: false,
  },
  system_role: {
    meaning: "System roles cannot be deleted or renamed, and the admin role's permissions cannot change.",
    action: "Create a custom role with the permissions you need instead.",
    retryable: false,
  },
  catalog_permission: {
    meaning: "Permissions of the built-in catalog cannot be changed or deleted.",
    action: "Create a custom permission instead.",
    retryable: false,
  },
  role_in_use: {
    meaning: "The role is still assigned to users and cannot be deleted.",
    action: "Remove the role from its users first (GET /api/v1/users?role=… lists them), or delete with `force=true` to remove it from them too.",
    retryable: false,
  },
  payload_too_large: {
    meaning: "The body is larger than the limit (MAX_BODY_BYTES for JSON, MAX_UPLOAD_BYTES for uploads) or the upload would exceed the storage quota.",
    action: "Send a smaller body, or free space (delete files) before uploading again.",
    retryable: false,
  },
  unsupported_media_type: {
    meaning: "The body's Content-Type is not one this operation accepts (JSON routes take only application/json; uploads only the allowed file types).",
    action: "Send the body with a supported Content-Type (see the operation in /openapi.json).",
    retryable: false,
  },
  range_not_satisfiable: {
    meaning: "The requested byte range starts past the end of the file; `Content-Range: bytes */<size>` gives the size.",
    action: "Request a range within the size, or the whole file.",
    retryable: false,
  },
  validation_failed: {
    meaning: "One or more fields are invalid; `errors` lists each with its path (`body.email`, `query.limit`) and what is wrong (`required` for a missing field).",
    action: "Correct every listed field and send the request again.",
    retryable: false,
  },
  prompt_injection_suspected: {
    meaning: "The AI screening judged the input (prompt, query or document) to be an attempt to override the model's instructions; nothing was sent to the model and nothing was charged. `score` and `categories` say why.",
    action: "Rephrase the input without instructions aimed at the model; sending it again unchanged is refused again.",
    retryable: false,
  },
  ai_provider_error: {
    meaning: "The AI provider failed to answer; nothing was charged (a stream that fails midway charges only the text generated).",
    action: "Retry later with backoff; if it persists, report the `request_id`.",
    retryable: true,
  },
  ai_provider_busy: {
    meaning: "The AI provider is over capacity right now; nothing was charged.",
    action: "Retry after `Retry-After` seconds, with backoff.",
    retryable: true,
  },
  ai_unavailable: {
    meaning: "No AI model of the needed kind is configured on this deployment (AI_MODELS).",
    action: "Nothing a client can change: ask the operators to configure a model.",
    retryable: true,
  },
  rate_limited: {
    meaning: "Too many requests for one of the limits named in `violated-policies` (per IP, account, user or session).",
    action: "Wait the number of seconds in `Retry-After`, then retry; earlier retries are refused too.",
    retryable: true,
  },
  internal_error: {
    meaning: "An unexpected error on the server. Details are in the service's log under the request id, never in the response.",
    action: "Retry once later; if it persists, report the `request_id` to the operators.",
    retryable: true,
  },
  service_unavailable: {
    meaning: "A storage dependency (database, object storage, rate limiter) is temporarily unavailable.",
    action: "Retry after `Retry-After` seconds, with backoff.",
    retryable: true,
  },
  misconfigured: {
    meaning: "The service's configuration is invalid, so it refuses every request rather than run unsafely. The log names each problem.",
    action: "Nothing a client can do: report it to the operators.",
    retryable: true,
  },
  timeout: {
    meaning: "The request took longer than the server's time budget (REQUEST_TIMEOUT_MS) and was abandoned; a write may or may not have happened.",
    action: "Retry with backoff; for writes, read the resource first to see whether the change took effect.",
    retryable: true,
  },
};
