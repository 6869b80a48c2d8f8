import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/app-env";

// vitest.config.ts lists https://app.example.com and http://localhost:3000.
const LISTED = "https://app.example.com";
const BASE = "http://localhost";

const varyOf = (response: Response) => (response.headers.get("Vary") ?? "").split(",").map((item) => item.trim().toLowerCase());

function preflight(origin: string, method = "POST", headers = "Authorization, Content-Type") {
  return SELF.fetch(`${BASE}/health`, {
    method: "OPTIONS",
    headers: { Origin: origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers },
  });
}

function expectNoCorsGrant(response: Response) {
  expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  expect(response.headers.get("Access-Control-Expose-Headers")).toBeNull();
}

describe("CORS on simple requests", () => {
  it("reflects a listed origin with Vary: Origin and the exposed headers", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { headers: { Origin: LISTED } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(LISTED);
    expect(varyOf(response)).toContain("origin");
    const exposed = (response.headers.get("Access-Control-Expose-Headers") ?? "").split(", ");
    expect(exposed).toEqual(expect.arrayContaining(["X-Request-Id", "Retry-After", "RateLimit", "WWW-Authenticate"]));
    // The API uses bearer tokens, not cookies.
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("reflects the second listed origin too", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { headers: { Origin: "http://localhost:3000" } });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
  });

  it("lets a listed origin read error bodies", async () => {
    const response = await SELF.fetch(`${BASE}/nope`, { headers: { Origin: LISTED } });
    expect(response.status).toBe(404);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(LISTED);
    expect(varyOf(response)).toContain("origin");
  });

  it.each([
    ["an unlisted origin", "https://evil.example.com"],
    ["the null origin", "null"],
    ["a listed origin as a prefix", "https://app.example.com.evil.com"],
    ["a listed origin with another scheme", "http://app.example.com"],
    ["a listed origin with a port", "https://app.example.com:8443"],
    ["a listed origin with a path", "https://app.example.com/"],
    ["the wildcard", "*"],
  ])("does not reflect %s", async (_, origin) => {
    const response = await SELF.fetch(`${BASE}/health`, { headers: { Origin: origin } });
    expect(response.status).toBe(200);
    expectNoCorsGrant(response);
    expect(varyOf(response)).toContain("origin");
  });

  it("sends Vary: Origin even without an Origin header, so caches keep the variants apart", async () => {
    const response = await SELF.fetch(`${BASE}/health`);
    expectNoCorsGrant(response);
    expect(varyOf(response)).toContain("origin");
  });
});

describe("CORS preflight", () => {
  it("answers an allowed preflight with 204, explicit methods and headers, and a 10-minute cache", async () => {
    const response = await preflight(LISTED);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(LISTED);
    const methods = (response.headers.get("Access-Control-Allow-Methods") ?? "").split(", ");
    expect(methods).toEqual(expect.arrayContaining(["GET", "POST", "PATCH", "DELETE"]));
    expect(methods).not.toContain("TRACE");
    const headers = (response.headers.get("Access-Control-Allow-Headers") ?? "").split(", ");
    expect(headers).toEqual(expect.arrayContaining(["Authorization", "Content-Type", "X-Request-Id"]));
    expect(response.headers.get("Access-Control-Max-Age")).toBe("600");
    expect(varyOf(response)).toContain("origin");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("never answers with a wildcard", async () => {
    const response = await preflight(LISTED, "PUT", "X-Anything");
    for (const name of ["Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"]) {
      expect(response.headers.get(name), name).not.toContain("*");
    }
  });

  it.each([
    ["an unlisted origin", "https://evil.example.com"],
    ["the null origin", "null"],
  ])("refuses a preflight from %s with a 403 problem and no grant", async (_, origin) => {
    const response = await preflight(origin);
    await expectProblem(response, 403, "forbidden");
    expectNoCorsGrant(response);
    expect(response.headers.get("Access-Control-Allow-Methods")).toBeNull();
    expect(response.headers.get("Access-Control-Max-Age")).toBeNull();
    expect(varyOf(response)).toContain("origin");
  });

  it("treats an OPTIONS without Access-Control-Request-Method as a plain OPTIONS", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "OPTIONS", headers: { Origin: LISTED } });
    expect(response.status).toBe(204);
    expect(response.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    expect(response.headers.get("Access-Control-Max-Age")).toBeNull();
  });
});
