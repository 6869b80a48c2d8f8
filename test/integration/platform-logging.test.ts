import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callApp, captureLogs } from "../helpers/app-env";

const BASE = "http://localhost";
let logs: ReturnType<typeof captureLogs>;

beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

const call = (url: string, init?: RequestInit, env: Record<string, unknown> = {}) =>
  callApp(url, init, { probes: true, env: { LOG_LEVEL: "info", ...env } });

describe("request log", () => {
  it("writes exactly one JSON line per request with the promised fields", async () => {
    // A documented query parameter (unknown ones are a 422): the logged path leaves the query out.
    const response = await call(`${BASE}/api/v1/dev/mailbox?to=log-test@example.com`, { headers: { "X-Request-Id": "log-test-1" } }, { ENVIRONMENT: "development" });
    expect(response.status).toBe(200);
    expect(logs.lines).toHaveLength(1);
    const [line] = logs.json();
    expect(line).toMatchObject({
      level: "info",
      message: "request",
      request_id: response.headers.get("X-Request-Id"),
      client_request_id: "log-test-1",
      method: "GET",
      path: "/api/v1/dev/mailbox",
      route: "/api/v1/dev/mailbox",
      status: 200,
    });
    expect(typeof line?.duration_ms).toBe("number");
    expect(new Date(String(line?.timestamp)).toISOString()).toBe(line?.timestamp);
  });

  it("logs 4xx at warn with the error code and 5xx at error", async () => {
    await call(`${BASE}/nope`);
    await call(`${BASE}/test/boom`);
    const [notFound, failure] = logs.json();
    expect(notFound).toMatchObject({ level: "warn", status: 404, error_code: "not_found" });
    expect(failure).toMatchObject({ level: "error", status: 500, error_code: "internal_error" });
    expect(logs.lines).toHaveLength(2);
  });

  it("carries the request id that the response carries", async () => {
    const response = await call(`${BASE}/health`);
    expect(logs.json()[0]?.request_id).toBe(response.headers.get("X-Request-Id"));
  });

  it("includes user_id when known, and colo and country from request.cf", async () => {
    const request = new Request(`${BASE}/test/user`, { cf: { colo: "AMS", country: "NL" } } as RequestInit);
    await callApp(request, undefined, { probes: true, env: { LOG_LEVEL: "info" } });
    expect(logs.json()[0]).toMatchObject({ user_id: "user-123", colo: "AMS", country: "NL" });
  });

  it("honours LOG_LEVEL", async () => {
    await call(`${BASE}/health`, undefined, { LOG_LEVEL: "warn" });
    expect(logs.lines).toHaveLength(0);
    await call(`${BASE}/nope`, undefined, { LOG_LEVEL: "warn" });
    expect(logs.lines).toHaveLength(1);
    await call(`${BASE}/nope`, undefined, { LOG_LEVEL: "error" });
    expect(logs.lines).toHaveLength(1);
  });
});

describe("nothing secret reaches the log", () => {
  const SECRET = "s3cr3t-Value-1234567890";

  it("drops the query string, which may carry tokens", async () => {
    await call(`${BASE}/health?token=${SECRET}&reset_link=https://x/?t=${SECRET}`);
    expect(logs.json()[0]?.path).toBe("/health");
    expect(logs.lines.join("\n")).not.toContain(SECRET);
  });

  it("never logs the Authorization header or cookies", async () => {
    await call(`${BASE}/nope`, { headers: { Authorization: `Bearer ${SECRET}`, Cookie: `session=${SECRET}` } });
    await call(`${BASE}/test/boom`, { headers: { Authorization: `Bearer ${SECRET}` } });
    expect(logs.lines).toHaveLength(2);
    expect(logs.lines.join("\n")).not.toContain(SECRET);
  });

  it("never logs a password sent in a body, even when the request fails", async () => {
    const body = JSON.stringify({ name: "x", email: "not-an-email", quantity: 0, password: SECRET });
    await call(`${BASE}/test/items`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    await call(`${BASE}/test/items`, { method: "POST", headers: { "Content-Type": "text/plain" }, body });
    await call(`${BASE}/test/items`, { method: "POST", headers: { "Content-Type": "application/json" }, body: `{"password":"${SECRET}"` });
    expect(logs.lines).toHaveLength(3);
    expect(logs.lines.join("\n")).not.toContain(SECRET);
  });

  it("redacts credentials that a handler passes to the logger", async () => {
    const body = JSON.stringify({ email: "a@example.com", password: SECRET, refresh_token: SECRET });
    const response = await call(`${BASE}/test/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(response.status).toBe(204);
    const [attempt] = logs.json();
    expect(attempt).toMatchObject({ message: "login attempt", email: "a@example.com", password: "[redacted]", session: { refresh_token: "[redacted]" } });
    expect(logs.lines.join("\n")).not.toContain(SECRET);
  });
});
