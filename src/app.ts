import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./bindings";
import { allowedMethods } from "./lib/allowed-methods";
import { describeError } from "./lib/logger";
import { problemCatalog, ProblemError, problemResponse, toValidationIssues, type ProblemCode } from "./lib/problem";
import { bodyLimit } from "./middleware/body-limit";
import { configGuard } from "./middleware/config-guard";
import { cors } from "./middleware/cors";
import { httpsOnly } from "./middleware/https-only";
import { permissionMiddleware } from "./middleware/auth";
import { jsonBody } from "./middleware/json-body";
import { instrumentedBindings, requestMetrics } from "./middleware/metrics";
import { apiRateLimit } from "./middleware/rate-limit";
import { requestId } from "./middleware/request-id";
import { requestLog } from "./middleware/request-log";
import { securityHeaders } from "./middleware/security-headers";
import { strictQuery } from "./middleware/strict-query";
import { timeout } from "./middleware/timeout";
import { aiDocumentRoutes } from "./modules/ai/ai.documents.routes";
import { aiRoutes } from "./modules/ai/ai.routes";
import { aiUsageRoutes } from "./modules/ai/ai.usage.routes";
import { apiKeyRoutes } from "./modules/api-keys/api-keys.routes";
import { auditRoutes } from "./modules/audit/audit.routes";
import { metricsRoutes } from "./modules/metrics/metrics.routes";
import { prometheusRoutes } from "./modules/metrics/prometheus.routes";
import { oauthRoutes } from "./modules/oauth/oauth.routes";
import { serviceAccountRoutes } from "./modules/service-accounts/service-accounts.routes";
import { mfaAdminRoutes } from "./modules/mfa/mfa.admin.routes";
import { mfaLoginRoutes } from "./modules/mfa/mfa-login.routes";
import { mfaRoutes } from "./modules/mfa/mfa.routes";
import { passkeyRoutes } from "./modules/mfa/passkeys.routes";
import { authRoutes } from "./modules/auth/auth.routes";
import { jwksRoutes } from "./modules/auth/jwks.routes";
import { passwordRoutes } from "./modules/auth/password.routes";
import { sessionRoutes } from "./modules/auth/session.routes";
import { devRoutes } from "./modules/dev/dev.routes";
import { createDocsRoutes } from "./modules/docs/docs.routes";
import { buildOpenApiDocument, registerOpenApiComponents } from "./modules/docs/openapi-document";
import { fileRoutes } from "./modules/files/files.routes";
import { healthRoutes } from "./modules/health/health.routes";
import { pageRoutes } from "./modules/pages/pages.routes";
import { permissionRoutes } from "./modules/permissions/permissions.routes";
import { problemRoutes } from "./modules/problems/problems.routes";
import { roleRoutes } from "./modules/roles/roles.routes";
import { meRoutes } from "./modules/users/me.routes";
import { userRoleRoutes } from "./modules/users/users.roles.routes";
import { userRoutes } from "./modules/users/users.routes";
import { userUnlockRoutes } from "./modules/users/users.unlock";

/** Methods this API never serves, whatever the path (TRACE would echo credentials back). */
const REFUSED_METHODS = new Set(["TRACE", "TRACK", "CONNECT"]);

/** Requests whose bodies are streamed by their route (uploads), not buffered by the pipeline. */
const isStreamedUpload = (c: Context<AppEnv>) => c.req.method === "POST" && new URL(c.req.url).pathname === "/api/v1/files";

/** The OAuth endpoints take form-encoded bodies (RFC 7662, RFC 7009); their routes validate the media type. */
const isOAuthForm = (c: Context<AppEnv>) => new URL(c.req.url).pathname.startsWith("/oauth/");

function origin(c: Context<AppEnv>): string {
  const config = c.var.config;
  return config ? config.PUBLIC_BASE_URL : new URL(c.req.url).origin;
}

/**
 * Renders any thrown error as a problem; only unexpected ones become a 500. Error details (with
 * the stack) go into the request's single log line, never into the body.
 */
function renderError(error: unknown, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  let problem: ProblemError;
  if (error instanceof ProblemError) {
    problem = error;
    if (problem.status >= 500) addLogFields(c, describeError(problem.init.cause ?? problem));
  } else if (error instanceof HTTPException && error.status < 500) {
    // Hono and its validators throw these (e.g. zod-openapi's 415 for an undeclared media type).
    problem = fromHttpException(error);
  } else if (isBindingUnavailable(error)) {
    addLogFields(c, describeError(error));
    problem = new ProblemError("service_unavailable", {
      detail: "A storage dependency is temporarily unavailable. Retry shortly.",
      headers: { "Retry-After": "5" },
    });
  } else {
    addLogFields(c, describeError(error));
    problem = new ProblemError("internal_error", { detail: "An unexpected error occurred. Quote the request id when reporting it." });
  }
  c.set("errorCode", problem.code);
  return problemResponse(problem, { origin: origin(c), requestId });
}

function addLogFields(c: Context<AppEnv>, fields: Record<string, unknown>): void {
  c.set("logFields", { ...c.get("logFields"), ...fields });
}

/** A client error raised as HTTPException, as the problem of the same status. */
function fromHttpException(error: HTTPException): ProblemError {
  const code = (Object.keys(problemCatalog) as ProblemCode[]).find((candidate) => problemCatalog[candidate].status === error.status);
  return new ProblemError(code ?? "bad_request", { status: error.status, detail: error.message || undefined });
}

/** D1, R2 and Durable Object outages surface as errors with these messages. */
function isBindingUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.message} ${error.cause instanceof Error ? error.cause.message : ""}`;
  // Constraint and SQL errors are bugs, not outages: they stay 500.
  if (/constraint failed|no such (table|column)|syntax error/i.test(text)) return false;
  return /D1_ERROR|D1 is overloaded|Network connection lost|storage operation exceeded|Durable Object.*(reset|overloaded|unavailable)|R2 .*(unavailable|timeout)|binding .*unavailable/i.test(text);
}

/**
 * Builds the whole API: the request pipeline in its documented order, then the modules.
 * See docs/ARCHITECTURE.md for why each step sits where it does.
 */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const target = result.target === "json" ? "body" : result.target;
        throw new ProblemError("validation_failed", {
          detail: "The request has invalid fields; see `errors`.",
          errors: toValidationIssues(result.error.issues, target),
        });
      }
    },
  });
  registerOpenApiComponents(app);

  app.use("*", requestId);
  app.use("*", requestLog);
  app.use("*", requestMetrics);
  app.use("*", securityHeaders);
  app.use("*", configGuard);
  app.use("*", instrumentedBindings);
  app.use("*", httpsOnly);
  app.use("*", async (c, next) => {
    if (REFUSED_METHODS.has(c.req.method)) throw methodNotAllowed(c, allowedMethods(app.routes, new URL(c.req.url).pathname));
    await next();
  });
  app.use("*", cors);
  app.use("*", bodyLimit(isStreamedUpload));
  app.use("*", jsonBody((c) => isStreamedUpload(c) || isOAuthForm(c)));
  app.use("*", timeout(isStreamedUpload));
  app.use("/api/*", apiRateLimit);
  app.use("/oauth/*", apiRateLimit);
  app.use("*", strictQuery(app));

  app.route("/", healthRoutes);
  app.route("/", problemRoutes);
  app.route("/", jwksRoutes);
  app.route("/", prometheusRoutes);
  app.route("/", oauthRoutes);
  app.route("/api/v1", authRoutes);
  app.route("/api/v1", sessionRoutes);
  app.route("/api/v1", passwordRoutes);
  app.route("/api/v1", mfaLoginRoutes);
  app.route("/api/v1", mfaRoutes);
  app.route("/api/v1", passkeyRoutes);
  app.route("/api/v1", mfaAdminRoutes);
  app.route("/api/v1", meRoutes);
  app.route("/api/v1", userRoutes);
  app.route("/api/v1", userRoleRoutes);
  app.route("/api/v1", userUnlockRoutes);
  app.route("/api/v1", roleRoutes);
  app.route("/api/v1", permissionRoutes);
  app.route("/api/v1", auditRoutes);
  app.route("/api/v1", metricsRoutes);
  app.route("/api/v1", devRoutes);
  app.route("/api/v1", fileRoutes);
  app.route("/", pageRoutes);
  app.route("/api/v1", aiRoutes);
  app.route("/api/v1", aiDocumentRoutes);
  app.route("/api/v1", aiUsageRoutes);
  app.route("/api/v1", apiKeyRoutes);
  app.route("/api/v1", serviceAccountRoutes);
  app.route("/", createDocsRoutes((config) => buildOpenApiDocument(app, config), permissionMiddleware("docs:read")));

  app.notFound((c) => {
    const methods = allowedMethods(app.routes, new URL(c.req.url).pathname);
    if (c.req.method === "OPTIONS" && methods.length > 0) return c.body(null, 204, { Allow: methods.join(", ") });
    throw methodNotAllowed(c, methods);
  });
  app.onError(renderError);
  return app;
}

/**
 * 405 with `Allow` for a known path, 404 otherwise. A method the path does route also lands in
 * notFound when its handler answered `c.notFound()`: that is a 404 too, never "GET not allowed".
 */
function methodNotAllowed(c: Context<AppEnv>, methods: string[]): ProblemError {
  if (methods.length === 0 || methods.includes(c.req.method)) {
    return new ProblemError("not_found", { detail: "No route matches this path." });
  }
  return new ProblemError("method_not_allowed", {
    detail: `${c.req.method} is not supported here.`,
    headers: { Allow: methods.join(", ") },
  });
}
