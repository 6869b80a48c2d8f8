import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callApp, captureLogs, expectProblem, expectSecurityHeaders } from "../helpers/app-env";

const BASE = "http://localhost";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("request id", () => {
  it("answers with our own id, never the client's: a client cannot pass its id off as ours (audit rows, problems)", async () => {
    const id = "client-Trace_01.abc";
    const response = await SELF.fetch(`${BASE}/health`, { headers: { "X-Request-Id": id } });
    expect(response.headers.get("X-Request-Id")).toMatch(UUID);
  });

  it("logs a plain client id (up to 64 characters) separately as client_request_id", async () => {
    const logs = captureLogs();
    try {
      const id = "a".repeat(64);
      const response = await callApp(`${BASE}/health`, { headers: { "X-Request-Id": id } }, { env: { LOG_LEVEL: "info" } });
      const line = logs.json().find((entry) => entry.message === "request");
      expect(line).toMatchObject({ client_request_id: id, request_id: response.headers.get("X-Request-Id") });
    } finally {
      logs.restore();
    }
  });

  it.each([
    ["too long", "a".repeat(65)],
    ["a space", "abc def"],
    ["markup", "<script>alert(1)</script>"],
    ["encoded CRLF", "abc%0d%0aSet-Cookie:x=1"],
    ["a header-like value", "abc:Set-Cookie=1"],
    ["a JSON break-out", 'abc","level":"error'],
    ["non-ASCII", "abcé"],
    ["a slash", "../../etc/passwd"],
  ])("replaces an inbound id with %s by a generated one", async (_, id) => {
    const response = await SELF.fetch(`${BASE}/health`, { headers: { "X-Request-Id": id } });
    const echoed = response.headers.get("X-Request-Id");
    expect(echoed).not.toBe(id);
    expect(echoed).toMatch(UUID);
    expect(response.headers.get("Set-Cookie")).toBeNull();
  });

  it("generates a fresh id per request when none is sent", async () => {
    const first = (await SELF.fetch(`${BASE}/health`)).headers.get("X-Request-Id");
    const second = (await SELF.fetch(`${BASE}/health`)).headers.get("X-Request-Id");
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
  });

  it("is the instance and request_id of a problem", async () => {
    const response = await SELF.fetch(`${BASE}/nope`, { headers: { "X-Request-Id": "trace-404" } });
    const body = await expectProblem(response, 404, "not_found");
    expect(body.instance).toMatch(UUID);
    expect(body.request_id).toBe(body.instance);
  });

  it("is the instance of a problem even when the inbound id was refused", async () => {
    const response = await SELF.fetch(`${BASE}/nope`, { headers: { "X-Request-Id": "bad id" } });
    const body = await expectProblem(response, 404, "not_found");
    expect(body.instance).toMatch(UUID);
  });
});

describe("security headers", () => {
  it("are on a 200", async () => {
    const response = await SELF.fetch(`${BASE}/health`);
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
  });

  it("are on a 404", async () => {
    const response = await SELF.fetch(`${BASE}/nope`);
    expect(response.status).toBe(404);
    expectSecurityHeaders(response);
  });

  it("are on a 405", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "DELETE" });
    expect(response.status).toBe(405);
    expectSecurityHeaders(response);
  });

  it("are on a 413", async () => {
    const response = await SELF.fetch(`${BASE}/health`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "x".repeat(2 * 1_048_576),
    });
    expect(response.status).toBe(413);
    expectSecurityHeaders(response);
  });

  it("are on a 415", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "hello" });
    expect(response.status).toBe(415);
    expectSecurityHeaders(response);
  });

  it("are on a 400", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" });
    expect(response.status).toBe(400);
    expectSecurityHeaders(response);
  });

  it("are on a 422", async () => {
    const response = await callApp(
      `${BASE}/test/items`,
      { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" },
      { probes: true },
    );
    expect(response.status).toBe(422);
    expectSecurityHeaders(response);
  });

  it("are on a 204 preflight and a 204 OPTIONS", async () => {
    const preflight = await SELF.fetch(`${BASE}/health`, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expectSecurityHeaders(preflight);
    const options = await SELF.fetch(`${BASE}/health`, { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expectSecurityHeaders(options);
  });

  it("are on a 500", async () => {
    const logs = captureLogs();
    try {
      const response = await callApp(`${BASE}/test/boom`, undefined, { probes: true });
      expect(response.status).toBe(500);
      expectSecurityHeaders(response);
    } finally {
      logs.restore();
    }
  });

  it("include HSTS for a year with subdomains on https URLs only", async () => {
    const secure = await SELF.fetch("https://localhost/health");
    expect(secure.headers.get("Strict-Transport-Security")).toBe("max-age=31536000; includeSubDomains");
    const secureError = await SELF.fetch("https://localhost/nope");
    expect(secureError.headers.get("Strict-Transport-Security")).toBe("max-age=31536000; includeSubDomains");
    const plain = await SELF.fetch(`${BASE}/health`);
    expect(plain.headers.get("Strict-Transport-Security")).toBeNull();
  });

  it("never reveal the server or framework", async () => {
    for (const path of ["/health", "/nope", "/problems", "/openapi.json"]) {
      const response = await SELF.fetch(`${BASE}${path}`);
      expect(response.headers.get("X-Powered-By"), path).toBeNull();
      expect(response.headers.get("Server"), path).toBeNull();
    }
  });
});
