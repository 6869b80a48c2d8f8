import { describe, expect, it } from "vitest";
import { allowedMethods } from "../../src/lib/allowed-methods";

const routes = [
  { method: "ALL", path: "/*" },
  { method: "ALL", path: "/api/*" },
  { method: "GET", path: "/health" },
  { method: "GET", path: "/api/v1/roles/:id" },
  { method: "patch", path: "/api/v1/roles/:id" },
  { method: "DELETE", path: "/api/v1/roles/:id" },
  { method: "POST", path: "/api/v1/files" },
  { method: "GET", path: "/docs/vendor/*" },
  { method: "GET", path: "/v1.0/x" },
];

describe("allowedMethods", () => {
  it("lists a path's methods with HEAD implied by GET and OPTIONS always, sorted", () => {
    expect(allowedMethods(routes, "/health")).toEqual(["GET", "HEAD", "OPTIONS"]);
    expect(allowedMethods(routes, "/api/v1/roles/abc")).toEqual(["DELETE", "GET", "HEAD", "OPTIONS", "PATCH"]);
  });

  it("does not imply HEAD without GET", () => {
    expect(allowedMethods(routes, "/api/v1/files")).toEqual(["OPTIONS", "POST"]);
  });

  it("returns nothing for an unknown path, ignoring middleware entries", () => {
    expect(allowedMethods(routes, "/nope")).toEqual([]);
    expect(allowedMethods(routes, "/api/whatever")).toEqual([]);
  });

  it("matches a parameter within one segment only", () => {
    expect(allowedMethods(routes, "/api/v1/roles/a/b")).toEqual([]);
    expect(allowedMethods(routes, "/api/v1/roles/")).toEqual([]);
  });

  it("matches like the router: strict about trailing slashes", () => {
    expect(allowedMethods(routes, "/health/")).toEqual([]);
  });

  it("matches wildcard routes", () => {
    expect(allowedMethods(routes, "/docs/vendor/swagger-ui-dist/a.js")).toEqual(["GET", "HEAD", "OPTIONS"]);
  });

  it("treats path characters literally, not as regular expression syntax", () => {
    expect(allowedMethods(routes, "/v1.0/x")).toEqual(["GET", "HEAD", "OPTIONS"]);
    expect(allowedMethods(routes, "/v1x0/x")).toEqual([]);
  });

  it("sees routes added to the same table after a first lookup", () => {
    const table = [{ method: "GET", path: "/a" }];
    expect(allowedMethods(table, "/b")).toEqual([]);
    table.push({ method: "PUT", path: "/b" });
    expect(allowedMethods(table, "/b")).toEqual(["OPTIONS", "PUT"]);
  });
});
