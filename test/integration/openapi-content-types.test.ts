import { describe, expect, it } from "vitest";
import { undeclaredContentType } from "../helpers/declared-content-types";

/*
 * The check every test file runs on every response (test/helpers/check-content-types.ts) must
 * itself be able to fail: these cases pin what it accepts and what it reports.
 */
const respond = (status: number, contentType?: string) => new Response(status === 204 || status === 304 ? null : "x", { status, headers: contentType ? { "Content-Type": contentType } : {} });

describe("the declared-content-type check", () => {
  it("accepts each stored type of a download, with parameters, and reports the old blanket octet-stream", () => {
    const url = "http://localhost/api/v1/files/0190f5c8-0000-7000-8000-000000000000/content";
    for (const type of ["text/plain; charset=utf-8", "text/csv; charset=utf-8", "application/json; charset=utf-8", "image/png", "application/pdf", "image/webp"]) {
      expect(undeclaredContentType("GET", url, respond(200, type)), type).toBeUndefined();
    }
    expect(undeclaredContentType("GET", url, respond(206, "image/gif"))).toBeUndefined();
    expect(undeclaredContentType("GET", url, respond(200, "application/octet-stream"))).toMatch(/GET \/api\/v1\/files\/\{id\}\/content → 200 sent application\/octet-stream; declared: text\/plain, /);
    expect(undeclaredContentType("GET", url, respond(200, "image/svg+xml"))).toBeDefined();
  });

  it("reports JSON where a problem is declared and a body where none is", () => {
    expect(undeclaredContentType("GET", "http://localhost/api/v1/users/me", respond(401, "application/json"))).toMatch(/401 sent application\/json; declared: application\/problem\+json/);
    expect(undeclaredContentType("GET", "http://localhost/api/v1/users/me", respond(401, "application/problem+json"))).toBeUndefined();
    expect(undeclaredContentType("POST", "http://localhost/api/v1/auth/verify-email", respond(204, "text/plain"))).toMatch(/declared: no body/);
  });

  it("prefers a literal path over a template, and leaves undocumented paths and statuses alone", () => {
    expect(undeclaredContentType("GET", "http://localhost/api/v1/users/me", respond(200, "application/json"))).toBeUndefined();
    expect(undeclaredContentType("GET", "http://localhost/verify-email", respond(200, "text/html"))).toBeUndefined();
    expect(undeclaredContentType("GET", "http://localhost/api/v1/users/me", respond(418, "text/plain"))).toBeUndefined();
  });
});
