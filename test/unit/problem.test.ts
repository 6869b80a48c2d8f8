import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import {
  PROBLEM_CONTENT_TYPE,
  problemCatalog,
  ProblemError,
  problemResponse,
  QUOTA_EXCEEDED_TYPE,
  toValidationIssues,
  VALIDATION_ISSUE_LIMITS,
} from "../../src/lib/problem";

const context = { origin: "https://api.example.com", requestId: "req-1" };

describe("ProblemError", () => {
  it("takes its status and message from the catalog", () => {
    const error = new ProblemError("not_found");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ProblemError");
    expect(error.status).toBe(404);
    expect(error.message).toBe("Not found");
    expect(error.cause).toBeUndefined();
  });

  it("uses the detail as message, an overridden status, and keeps the cause", () => {
    const cause = new Error("underlying");
    const error = new ProblemError("unauthorized", { status: 403, detail: "Nope", cause });
    expect(error.status).toBe(403);
    expect(error.message).toBe("Nope");
    expect(error.cause).toBe(cause);
  });
});

describe("problemResponse", () => {
  it("renders an RFC 9457 body with the request id as instance", async () => {
    const response = problemResponse(new ProblemError("not_found", { detail: "No such role" }), context);
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe(PROBLEM_CONTENT_TYPE);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.json()).toEqual({
      type: "https://api.example.com/problems/not_found",
      title: "Not found",
      status: 404,
      detail: "No such role",
      instance: "req-1",
      code: "not_found",
      request_id: "req-1",
    });
  });

  it("falls back to the title as detail and keeps status equal to the HTTP status", async () => {
    const response = problemResponse(new ProblemError("forbidden", { status: 404 }), context);
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(404);
    expect(body.status).toBe(404);
    expect(body.detail).toBe("Forbidden");
  });

  it("adds errors, extensions, headers, a custom type and title", async () => {
    const problem = new ProblemError("rate_limited", {
      type: QUOTA_EXCEEDED_TYPE,
      title: "Quota exceeded",
      errors: [{ path: "body.name", message: "Required" }],
      extensions: { "violated-policies": ["login"] },
      headers: { "Retry-After": "30" },
    });
    const response = problemResponse(problem, context);
    expect(response.headers.get("Retry-After")).toBe("30");
    expect(await response.json()).toMatchObject({
      type: QUOTA_EXCEEDED_TYPE,
      title: "Quota exceeded",
      status: 429,
      errors: [{ path: "body.name", message: "Required" }],
      "violated-policies": ["login"],
    });
  });

  it("never lets an extension overwrite a standard member", async () => {
    const problem = new ProblemError("conflict", {
      extensions: { status: 200, instance: "forged", code: "ok", type: "https://evil.example.com", request_id: "forged" },
    });
    const body = (await problemResponse(problem, context).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 409, instance: "req-1", code: "conflict", request_id: "req-1" });
    expect(body.type).toBe("https://api.example.com/problems/conflict");
  });

  it("keeps its own Content-Type and Cache-Control whatever the headers say", () => {
    const response = problemResponse(new ProblemError("bad_request", { headers: { "Content-Type": "text/html", "Cache-Control": "public" } }), context);
    expect(response.headers.get("Content-Type")).toBe(PROBLEM_CONTENT_TYPE);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
  });

  it("has a 4xx or 5xx status for every catalog entry", () => {
    for (const [code, entry] of Object.entries(problemCatalog)) {
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
    }
  });
});

describe("toValidationIssues", () => {
  it("joins paths with the target as prefix", () => {
    const issues = [
      { path: ["name"], message: "Required" },
      { path: ["items", 2, "sku"], message: "Too short" },
    ];
    expect(toValidationIssues(issues, "body")).toEqual([
      { path: "body.name", message: "Required" },
      { path: "body.items.2.sku", message: "Too short" },
    ]);
  });

  it("leaves out an empty prefix and an empty path", () => {
    expect(toValidationIssues([{ path: [], message: "Expected object" }], "body")).toEqual([{ path: "body", message: "Expected object" }]);
    expect(toValidationIssues([{ path: ["a"], message: "x" }])).toEqual([{ path: "a", message: "x" }]);
  });

  it("says `required` for every kind of missing field, from zod's real issues, and keeps other type errors", () => {
    const schema = z.object({ email: z.email(), age: z.number().int(), tags: z.array(z.string()), nested: z.object({ flag: z.boolean() }), kind: z.enum(["a", "b"]) });
    const missing = schema.safeParse({ nested: {} });
    expect(toValidationIssues(missing.error!.issues, "body")).toEqual([
      { path: "body.email", message: "required" },
      { path: "body.age", message: "required" },
      { path: "body.tags", message: "required" },
      { path: "body.nested.flag", message: "required" },
      { path: "body.kind", message: "required" },
    ]);
    // Present but wrong stays zod's specific message; null is a value, not a missing field.
    const wrong = schema.safeParse({ email: 5, age: null, tags: [], nested: { flag: true }, kind: "a" });
    expect(toValidationIssues(wrong.error!.issues).map((issue) => issue.message)).toEqual([
      "Invalid input: expected string, received number",
      "Invalid input: expected number, received null",
    ]);
  });

  it("bounds the list and clips long paths and messages", () => {
    const many = Array.from({ length: 500 }, (_, index) => ({ path: [`field${index}`], message: "bad" }));
    expect(toValidationIssues(many)).toHaveLength(VALIDATION_ISSUE_LIMITS.issues);
    const [long] = toValidationIssues([{ path: ["k".repeat(10_000)], message: "m".repeat(10_000) }]);
    expect(long?.path.length).toBe(VALIDATION_ISSUE_LIMITS.pathLength);
    expect(long?.message.length).toBe(VALIDATION_ISSUE_LIMITS.messageLength);
    expect(long?.message.endsWith("…")).toBe(true);
  });
});
