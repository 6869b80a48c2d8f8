import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callApp, captureLogs, expectProblem, expectSecurityHeaders, unavailableD1 } from "../helpers/app-env";
import { problemCatalog } from "../../src/lib/problem";
import { problemExplanations } from "../../src/lib/problem-explanations";

const BASE = "http://localhost";

// Failing requests log at error level, which the test configuration prints: capture them instead.
let logs: ReturnType<typeof captureLogs>;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

describe("unknown paths and methods", () => {
  it("answers an unknown path with a 404 problem carrying the request id", async () => {
    const response = await SELF.fetch(`${BASE}/nope`);
    const body = await expectProblem(response, 404, "not_found");
    expect(body.type).toBe("http://localhost/problems/not_found");
    expectSecurityHeaders(response);
  });

  it("answers a wrong method on a known path with 405 and Allow", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "POST" });
    const body = await expectProblem(response, 405, "method_not_allowed");
    expect(body.detail).toContain("POST");
    expect(response.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    expectSecurityHeaders(response);
  });

  it("lists every routed method in Allow", async () => {
    const response = await SELF.fetch(`${BASE}/problems/not_found`, { method: "DELETE" });
    await expectProblem(response, 405, "method_not_allowed");
    expect(response.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("refuses TRACE with 405 and Allow, without echoing the request", async () => {
    for (const path of ["/", "/health"]) {
      const response = await SELF.fetch(`${BASE}${path}`, { method: "TRACE", headers: { Authorization: "Bearer secret-token" } });
      const text = await response.clone().text();
      await expectProblem(response, 405, "method_not_allowed");
      expect(response.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
      expect(text).not.toContain("secret-token");
    }
  });

  it("answers TRACE on an unknown path with 404 (there is no resource to list methods for)", async () => {
    await expectProblem(await SELF.fetch(`${BASE}/nope`, { method: "TRACE" }), 404, "not_found");
  });

  it("answers OPTIONS on a known path with 204 and Allow, and 404 on an unknown one", async () => {
    const response = await SELF.fetch(`${BASE}/health/ready`, { method: "OPTIONS" });
    expect(response.status).toBe(204);
    expect(response.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    expect(await response.text()).toBe("");
    expectSecurityHeaders(response);
    await expectProblem(await SELF.fetch(`${BASE}/nope`, { method: "OPTIONS" }), 404, "not_found");
  });

  it("does not treat a trailing slash as the route (strict routing gives 404, not 405)", async () => {
    const response = await SELF.fetch(`${BASE}/health/`);
    await expectProblem(response, 404, "not_found");
    expect(response.headers.get("Allow")).toBeNull();
  });

  it("answers 404, not 405, when a routed handler itself finds nothing", async () => {
    const response = await callApp(`${BASE}/test/missing`, undefined, { probes: true });
    await expectProblem(response, 404, "not_found");
    expect(response.headers.get("Allow")).toBeNull();
  });

  it.each([
    ["X-HTTP-Method-Override", "GET"],
    ["X-HTTP-Method", "GET"],
    ["X-HTTP-Method-Override", "DELETE"],
  ])("ignores %s: %s on a POST", async (header, value) => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "POST", headers: { [header]: value } });
    const body = await expectProblem(response, 405, "method_not_allowed");
    expect(body.detail).toBe("POST is not supported here.");
  });

  it("ignores ?_method= on a POST", async () => {
    const response = await SELF.fetch(`${BASE}/health?_method=GET`, { method: "POST" });
    await expectProblem(response, 405, "method_not_allowed");
  });

  it("keeps a GET a GET whatever the override headers say", async () => {
    const response = await SELF.fetch(`${BASE}/health`, {
      headers: { "X-HTTP-Method-Override": "DELETE", "X-HTTP-Method": "PUT" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
    // `?_method=` is not an override either: like any undocumented parameter it is refused by name.
    const query = await SELF.fetch(`${BASE}/health?_method=DELETE`);
    expect(query.status).toBe(422);
    expect((await query.json<{ unknown_parameters: string[] }>()).unknown_parameters).toEqual(["_method"]);
  });
});

describe("unexpected errors", () => {
  it("answers an exception with a generic 500: no message, no stack", async () => {
    const response = await callApp(`${BASE}/test/boom`, undefined, { probes: true });
    const text = await response.clone().text();
    const body = await expectProblem(response, 500, "internal_error");
    expect(body.detail).toBe("An unexpected error occurred. Quote the request id when reporting it.");
    expect(text).not.toMatch(/hunter2|at \/|\.ts:|stack/i);
    expectSecurityHeaders(response);
    // The details are in the log, on the request's line.
    const [line] = logs.json();
    expect(logs.lines).toHaveLength(1);
    expect(line).toMatchObject({ level: "error", status: 500, error_code: "internal_error", request_id: body.request_id });
    expect(line?.stack).toEqual(expect.stringContaining("Error:"));
  });

  it("answers D1 being unavailable with 503 and Retry-After", async () => {
    const response = await callApp(`${BASE}/test/d1`, undefined, { probes: true, env: { DB: unavailableD1 } });
    const text = await response.clone().text();
    await expectProblem(response, 503, "service_unavailable");
    expect(response.headers.get("Retry-After")).toBe("5");
    expect(text).not.toContain("D1_ERROR");
    expectSecurityHeaders(response);
  });

  it("keeps a SQL bug a 500 rather than calling it an outage", async () => {
    const brokenSql = {
      prepare() {
        throw new Error("D1_ERROR: UNIQUE constraint failed: users.email");
      },
    };
    const response = await callApp(`${BASE}/test/d1`, undefined, { probes: true, env: { DB: brokenSql } });
    await expectProblem(response, 500, "internal_error");
    expect(response.headers.get("Retry-After")).toBeNull();
  });

  it("recognises an outage reported in the error's cause", async () => {
    const wrapped = {
      prepare() {
        throw new Error("query failed", { cause: new Error("Durable Object reset because its code was updated") });
      },
    };
    const response = await callApp(`${BASE}/test/d1`, undefined, { probes: true, env: { DB: wrapped } });
    await expectProblem(response, 503, "service_unavailable");
  });

  it("answers a handler slower than REQUEST_TIMEOUT_MS with a 504 problem", async () => {
    const response = await callApp(`${BASE}/test/slow`, undefined, { probes: true, env: { REQUEST_TIMEOUT_MS: "100" } });
    const body = await expectProblem(response, 504, "timeout");
    expect(body.detail).toContain("100 ms");
    expectSecurityHeaders(response);
  });

  it("renders Hono's HTTPExceptions as problems of the same status", async () => {
    await expectProblem(await callApp(`${BASE}/test/http-exception/409`, undefined, { probes: true }), 409, "conflict");
    const teapot = await callApp(`${BASE}/test/http-exception/418`, undefined, { probes: true });
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toMatchObject({ code: "bad_request", status: 418, detail: "From Hono" });
    const bare = await expectProblem(await callApp(`${BASE}/test/http-exception/401?message=`, undefined, { probes: true }), 401, "unauthorized");
    expect(bare.detail).toBe("Authentication required");
    // A 5xx HTTPException is a bug like any other exception.
    await expectProblem(await callApp(`${BASE}/test/http-exception/502`, undefined, { probes: true }), 500, "internal_error");
  });
});

describe("problem types", () => {
  it("lists every problem type at /problems", async () => {
    const response = await SELF.fetch(`${BASE}/problems`);
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { code: string; status: number; title: string }[] };
    expect(items).toContainEqual(expect.objectContaining({ code: "not_found", status: 404, title: "Not found" }));
    expect(items.map((item) => item.code)).toEqual(
      expect.arrayContaining(["validation_failed", "payload_too_large", "timeout", "misconfigured", "method_not_allowed"]),
    );
    expectSecurityHeaders(response);
  });

  it("resolves a problem's `type` to its description", async () => {
    const problem = await expectProblem(await SELF.fetch(`${BASE}/nope`), 404, "not_found");
    const response = await SELF.fetch(problem.type);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      code: "not_found",
      status: 404,
      title: "Not found",
      meaning: problemExplanations.not_found.meaning,
      action: problemExplanations.not_found.action,
      retryable: false,
    });
  });

  it("explains every code of the catalog: what it means, what to do, whether retrying helps", async () => {
    const { items } = (await (await SELF.fetch(`${BASE}/problems`)).json()) as { items: { code: string; meaning: string; action: string; retryable: boolean }[] };
    expect(items.map((item) => item.code).sort()).toEqual(Object.keys(problemCatalog).sort());
    for (const code of Object.keys(problemCatalog)) {
      const response = await SELF.fetch(`${BASE}/problems/${code}`);
      expect(response.status, code).toBe(200);
      const type = (await response.json()) as { meaning: string; action: string; retryable: boolean };
      expect(type.meaning.length, `${code} meaning`).toBeGreaterThan(20);
      expect(type.action.length, `${code} action`).toBeGreaterThan(15);
      expect(type.meaning, code).not.toBe(type.action);
      // Only server-side and rate-limit failures can succeed unchanged later.
      expect(type.retryable, code).toBe(problemCatalog[code as keyof typeof problemCatalog].status >= 500 || code === "rate_limited");
    }
    expect(new Set(Object.values(problemExplanations).map((explanation) => explanation.meaning)).size).toBe(Object.keys(problemCatalog).length);
  });

  it("answers an unknown problem code with 404 and a too-long one with 422", async () => {
    await expectProblem(await SELF.fetch(`${BASE}/problems/no_such_code`), 404, "not_found");
    await expectProblem(await SELF.fetch(`${BASE}/problems/toString`), 404, "not_found");
    const body = await expectProblem(await SELF.fetch(`${BASE}/problems/${"x".repeat(65)}`), 422, "validation_failed");
    expect(body.errors).toEqual([{ path: "param.code", message: expect.any(String) }]);
  });
});
