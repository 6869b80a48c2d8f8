import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toValidationIssues, VALIDATION_ISSUE_LIMITS } from "../../src/lib/problem";
import { applyDocumentConventions, type JsonObject } from "../../src/modules/docs/openapi-document";

const problem = { description: "x", content: { "application/problem+json": { schema: {} } } };
const ok = { description: "ok", content: { "application/json": { schema: {} } } };

function documentWith(responses: JsonObject, schemas: JsonObject = {}): JsonObject {
  return { openapi: "3.1.0", paths: { "/things": { get: { responses } } }, components: { schemas } };
}

type Responses = Record<string, { headers: JsonObject }>;

function responsesOf(document: JsonObject): Responses {
  return ((document.paths as JsonObject)["/things"] as { get: { responses: Responses } }).get.responses;
}

/** The headers of one response; fails the test when the response is missing. */
function headersOf(document: JsonObject, status: string): JsonObject {
  const response = responsesOf(document)[status];
  if (!response) throw new Error(`no ${status} response`);
  return response.headers;
}

describe("applyDocumentConventions", () => {
  it("adds X-Request-Id and the CORS origin to every response, and registers the headers once", () => {
    const document = documentWith({ 200: ok, 404: problem, 500: problem });
    applyDocumentConventions(document);
    for (const [status, response] of Object.entries(responsesOf(document))) {
      expect(response.headers["X-Request-Id"], status).toEqual({ $ref: "#/components/headers/X-Request-Id" });
      expect(response.headers["Access-Control-Allow-Origin"], status).toEqual({ $ref: "#/components/headers/Access-Control-Allow-Origin" });
      expect(response.headers.RateLimit, status).toBeUndefined();
    }
    const headers = (document.components as JsonObject).headers as JsonObject;
    expect(Object.keys(headers)).toEqual(expect.arrayContaining(["X-Request-Id", "Access-Control-Allow-Origin", "RateLimit", "Retry-After"]));
  });

  it("documents the RateLimit fields on 2xx/4xx and Retry-After on the 429 of a rate-limited route", () => {
    const document = documentWith({ 200: ok, 422: problem, 429: problem, 500: problem });
    applyDocumentConventions(document);
    for (const status of ["200", "422", "429"]) {
      expect(headersOf(document, status).RateLimit, status).toEqual({ $ref: "#/components/headers/RateLimit" });
      expect(headersOf(document, status)["RateLimit-Policy"], status).toEqual({ $ref: "#/components/headers/RateLimit-Policy" });
    }
    expect(headersOf(document, "500").RateLimit).toBeUndefined();
    expect(headersOf(document, "429")["Retry-After"]).toEqual({ $ref: "#/components/headers/Retry-After" });
    expect(headersOf(document, "200")["Retry-After"]).toBeUndefined();
  });

  it("keeps a route's description of a shared header but gives it the shared schema; other headers stay", () => {
    const etag = { description: "The file's entity tag", schema: { type: "string", maxLength: 130 } };
    const headers = { RateLimit: { description: "The violated policies, r=0", schema: { type: "string" } }, ETag: etag };
    const document = documentWith({ 200: ok, 429: { ...problem, headers } });
    applyDocumentConventions(document);
    const declared = headersOf(document, "429");
    expect(declared.RateLimit).toEqual({ description: "The violated policies, r=0", schema: { type: "string", maxLength: 1024, example: '"login";r=2;t=412' } });
    expect(declared.ETag).toEqual(etag);
    expect(declared["Retry-After"]).toEqual({ $ref: "#/components/headers/Retry-After" });
  });

  it("gives bounded integers the format their bounds fit, and uuid strings their length", () => {
    const schemas = {
      Thing: {
        type: "object",
        properties: {
          small: { type: "integer", minimum: 0, maximum: 599 },
          large: { type: "integer", minimum: 0, maximum: 2 ** 40 },
          unbounded: { type: "integer", minimum: 0 },
          declared: { type: "integer", format: "int64", minimum: 0, maximum: 10 },
          id: { type: "string", format: "uuid" },
          nullableId: { type: ["string", "null"], format: "uuid" },
          when: { type: "string", format: "date-time" },
        },
      },
    };
    applyDocumentConventions(documentWith({ 200: ok }, schemas));
    const properties: Record<keyof typeof schemas.Thing.properties, JsonObject> = schemas.Thing.properties;
    expect(properties.small.format).toBe("int32");
    expect(properties.large.format).toBe("int64");
    expect(properties.unbounded.format).toBeUndefined();
    expect(properties.declared.format).toBe("int64");
    expect(properties.id.maxLength).toBe(36);
    expect(properties.nullableId.maxLength).toBe(36);
    expect(properties.when.maxLength).toBeUndefined();
  });
});

describe("toValidationIssues", () => {
  it("keeps the first 100 issues and clips long paths and messages", () => {
    const issues = Array.from({ length: 250 }, (_, index) => ({ path: ["items", index, "k".repeat(1_000)], message: "m".repeat(10_000) }));
    const result = toValidationIssues(issues, "body");
    expect(result).toHaveLength(VALIDATION_ISSUE_LIMITS.issues);
    const [first] = result;
    expect(first?.path.startsWith("body.items.0.kkk")).toBe(true);
    expect(first?.path.length).toBeLessThanOrEqual(VALIDATION_ISSUE_LIMITS.pathLength);
    expect(first?.message.length).toBeLessThanOrEqual(VALIDATION_ISSUE_LIMITS.messageLength);
    expect(toValidationIssues([{ path: ["email"], message: "Invalid email" }], "body")).toEqual([{ path: "body.email", message: "Invalid email" }]);
  });
});

describe("GET /openapi.json", () => {
  it("declares the server's environment and audience and the pipeline headers on every response", async () => {
    const response = await SELF.fetch("http://localhost/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      servers: Array<Record<string, unknown>>;
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
      components: { securitySchemes: { Bearer: { description: string } } };
    };
    expect(document.servers).toEqual([{ url: "http://localhost", description: "test", "x-internal": true }]);
    expect(document.components.securitySchemes.Bearer.description).toContain("RFC8725");
    const health = document.paths["/health"]?.get?.responses["200"];
    expect(health?.headers).toMatchObject({ "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } });
  });
});
