import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { PERMISSIONS } from "../../src/lib/permissions";
import { authedFetch, BASE, createUser, randomIp, type TestUser } from "../helpers/auth";

/*
 * Walks every operation of the live OpenAPI document, so routes added later by any module are
 * covered without touching this file: a protected operation must declare its permissions and
 * enforce them (401 without a token, 403 without the permission); an operation without security
 * must be listed here, on purpose, as public.
 */

/** Operations anyone may call. Adding one is a security decision: say why next to it. */
const PUBLIC_OPERATIONS = new Set([
  "GET /", // API index
  "GET /health", // liveness probe
  "GET /health/ready", // readiness probe
  "GET /problems", // error type catalog
  "GET /problems/{code}",
  "GET /.well-known/jwks.json", // public verification keys
  "GET /.well-known/oauth-authorization-server", // public discovery metadata (RFC 8414)
  "POST /oauth/revoke", // possession of the token is the credential (RFC 7009)
  "POST /api/v1/auth/register", // account creation and recovery happen before a token exists
  "POST /api/v1/auth/verify-email",
  "POST /api/v1/auth/resend-verification",
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/refresh", // the refresh token in the body is the credential
  "POST /api/v1/auth/logout",
  "POST /api/v1/auth/password/forgot",
  "POST /api/v1/auth/password/reset", // the emailed token is the credential
  "POST /api/v1/auth/mfa/verify", // the mfa_token (password already proven) and the second factor are the credentials
  "POST /api/v1/auth/mfa/webauthn/options", // needs a live mfa_token
  "POST /api/v1/auth/passkeys/login/options", // passwordless sign-in: the passkey is the credential
  "POST /api/v1/auth/passkeys/login",
  "GET /api/v1/dev/mailbox", // only exists with MAIL_TRANSPORT=capture (refused in production)
  "DELETE /api/v1/dev/mailbox",
  "GET /api/v1/files/{id}/download", // the signed link is the credential
]);

/** Routes served outside the OpenAPI document; their access rules are tested where noted. */
const UNDOCUMENTED_ROUTES = new Set([
  "GET /openapi.json", // DOCS_PUBLIC or docs:read (rbac-docs.test.ts)
  "GET /docs",
  "GET /docs/vendor/*", // static Swagger UI files
  "GET /verify-email", // hosted pages for emailed links: static HTML, no data (pages.test.ts)
  "GET /reset-password",
  "GET /forgot-password",
  "GET /account",
  "GET /account/security", // sign-in security page: static HTML; it calls the documented API (pages.test.ts, test/browser/mfa.browser.mjs)
  "GET /pages/:file", // their CSS and JavaScript
  "GET /pages/vendor/:file", // the browser libraries bundled for them (scripts/page-vendor.mjs)
]);

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

interface Operation {
  method: string;
  path: string;
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  "x-required-permissions"?: string[];
  "x-permission-mode"?: string;
}

let operations: Operation[] = [];
let noRoles: TestUser;

beforeAll(async () => {
  const response = await SELF.fetch(`${BASE}/openapi.json`);
  expect(response.status).toBe(200);
  const document = await response.json<{ paths: Record<string, Record<string, Omit<Operation, "method" | "path">>> }>();
  operations = Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ ...item[method]!, method: method.toUpperCase(), path })),
  );
  noRoles = await createUser({ roles: [] });
});

const isProtected = (operation: Operation) => (operation.security ?? []).some((requirement) => Object.keys(requirement).length > 0);
const label = (operation: Operation) => `${operation.method} ${operation.path}`;
const concretePath = (path: string) => path.replace(/\{[^}]+\}/g, () => crypto.randomUUID());

function send(operation: Operation, token?: string): Promise<Response> {
  const init: RequestInit = { method: operation.method };
  if (operation.requestBody !== undefined) {
    init.body = "{}";
    init.headers = { "Content-Type": "application/json" };
  }
  const url = `${BASE}${concretePath(operation.path)}`;
  if (token) return authedFetch(url, token, init);
  return SELF.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), "CF-Connecting-IP": randomIp() } });
}

describe("every route of the API document", () => {
  it("has a substantial document to walk", () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter(isProtected).length).toBeGreaterThan(20);
  });

  it("declares catalog permissions on every protected operation", () => {
    const missing = operations.filter((operation) => isProtected(operation) && !(operation["x-required-permissions"]?.length));
    expect(missing.map(label), "protected operations without x-required-permissions").toEqual([]);
    for (const operation of operations.filter(isProtected)) {
      for (const permission of operation["x-required-permissions"]!) expect(Object.keys(PERMISSIONS), label(operation)).toContain(permission);
      expect(["all", "any"], label(operation)).toContain(operation["x-permission-mode"]);
    }
  });

  it("lists every operation without security as deliberately public", () => {
    const unexpected = operations.filter((operation) => !isProtected(operation) && !PUBLIC_OPERATIONS.has(label(operation)));
    expect(unexpected.map(label), "public operations missing from the allowlist").toEqual([]);
  });

  it("answers 401 with WWW-Authenticate to every protected operation without a token", async () => {
    for (const operation of operations.filter(isProtected)) {
      const response = await send(operation);
      expect(response.status, label(operation)).toBe(401);
      expect(response.headers.get("WWW-Authenticate"), label(operation)).toBe('Bearer error="invalid_token"');
      expect(response.headers.get("Content-Type"), label(operation)).toBe("application/problem+json");
      expect((await response.json<{ code: string }>()).code, label(operation)).toBe("unauthorized");
    }
  });

  it("answers 401 to a malformed token too", async () => {
    for (const operation of operations.filter(isProtected)) {
      const response = await send(operation, "not.a.valid-token");
      expect(response.status, label(operation)).toBe(401);
      await response.body?.cancel();
    }
  });

  it("answers 403 naming the permissions to a signed-in user who holds none", async () => {
    for (const operation of operations.filter(isProtected)) {
      const response = await send(operation, noRoles.accessToken);
      const body = await response.json<{ code: string; missing_permissions: string[] }>();
      expect(response.status, label(operation)).toBe(403);
      expect(body.code, label(operation)).toBe("forbidden");
      expect([...body.missing_permissions].sort(), label(operation)).toEqual([...operation["x-required-permissions"]!].sort());
    }
  });
});

describe("every route the app serves", () => {
  it("is either in the API document or a known undocumented route", () => {
    const documented = new Set(operations.map((operation) => `${operation.method} ${operation.path.replace(/\{([^}]+)\}/g, ":$1")}`));
    const served = new Set(createApp().routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path}`));
    const unknown = [...served].filter((route) => !documented.has(route) && !UNDOCUMENTED_ROUTES.has(route));
    expect(unknown, "routes that bypass the API document (and so this walk)").toEqual([]);
  });
});
