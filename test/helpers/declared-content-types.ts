/**
 * "Every response's content type is one its operation declares": every response the shared request
 * helpers receive (postJson, authedFetch, checkedFetch, callApp: most of the integration suite) is
 * checked against the OpenAPI document of the same app. A response of a documented operation whose status is declared must carry one of the
 * media types declared for that status (a declared body-less status must send no body type).
 * test/helpers/check-content-types.ts (a setup file) fails a test file with a mismatch in afterAll.
 */
import { env } from "cloudflare:test";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/env";
import { buildOpenApiDocument } from "../../src/modules/docs/openapi-document";

interface DeclaredOperation {
  method: string;
  path: string;
  pattern: RegExp;
  /** Literal segments first: `/users/me` wins over `/users/{id}`. */
  parameters: number;
  responses: Record<string, { content?: Record<string, unknown> }>;
}

let operations: DeclaredOperation[] | undefined;

function declaredOperations(): DeclaredOperation[] {
  if (operations) return operations;
  const loaded = loadConfig(env as never);
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const document = buildOpenApiDocument(createApp(), loaded.config) as { paths: Record<string, Record<string, { responses?: DeclaredOperation["responses"] }>> };
  operations = Object.entries(document.paths)
    .flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => operation?.responses !== undefined)
        .map(([method, operation]) => ({
          method: method.toUpperCase(),
          path,
          pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
          parameters: (path.match(/\{/g) ?? []).length,
          responses: operation.responses!,
        })),
    )
    .sort((a, b) => a.parameters - b.parameters);
  return operations;
}

const essence = (mediaType: string) => mediaType.split(";")[0]!.trim().toLowerCase();

/**
 * Why `response` (to `method url`) breaks its operation's declared content types, or undefined
 * when it does not (or when no documented operation and status cover it).
 */
export function undeclaredContentType(method: string, url: string, response: Response): string | undefined {
  const path = new URL(url).pathname;
  const verb = method === "HEAD" ? "GET" : method;
  const operation = declaredOperations().find((candidate) => candidate.method === verb && candidate.pattern.test(path));
  if (!operation) return undefined;
  const declared = operation.responses[String(response.status)];
  if (!declared) return undefined;
  const sent = response.headers.get("Content-Type");
  const allowed = Object.keys(declared.content ?? {});
  if (sent === null) return undefined;
  if (allowed.some((type) => essence(type) === essence(sent))) return undefined;
  return `${method} ${operation.path} → ${response.status} sent ${sent}; declared: ${allowed.join(", ") || "no body"}`;
}

/** Mismatches seen by this test file. */
export const contentTypeMismatches: string[] = [];

/** Records a mismatch of `response`; returns the response unchanged. */
export function recordContentType(request: Request, response: Response): Response {
  const mismatch = undeclaredContentType(request.method, request.url, response);
  if (mismatch && !contentTypeMismatches.includes(mismatch)) contentTypeMismatches.push(mismatch);
  return response;
}
