import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { APP_VERSION } from "../../src/version";
import { callApp, captureLogs, expectSecurityHeaders, unavailableD1 } from "../helpers/app-env";

const BASE = "http://localhost";

interface Readiness {
  status: string;
  version: string;
  checks: { name: string; ok: boolean; latency_ms: number; error?: string }[];
  failed: string[];
}

const CHECK_NAMES = ["d1", "r2", "durable_object:rate_limiter", "durable_object:quota"];

async function readiness(overrides: Record<string, unknown>) {
  const logs = captureLogs();
  try {
    const response = await callApp(`${BASE}/health/ready`, undefined, { env: { LOG_LEVEL: "info", ...overrides } });
    return { response, body: (await response.json()) as Readiness, logs: logs.json() };
  } finally {
    logs.restore();
  }
}

describe("GET /health", () => {
  it("answers liveness with the version, never cached", async () => {
    const response = await SELF.fetch(`${BASE}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.json()).toEqual({ status: "ok", version: APP_VERSION });
    expectSecurityHeaders(response);
  });

  it("answers HEAD with the headers and no body", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.text()).toBe("");
  });

  it("stays alive when every dependency is down (liveness touches none)", async () => {
    const response = await callApp(`${BASE}/health`, undefined, { env: { DB: unavailableD1, FILES: null, RATE_LIMITER: null } });
    expect(response.status).toBe(200);
  });
});

describe("GET /health/ready", () => {
  it("checks D1, R2 and every Durable Object namespace, each with its latency", async () => {
    const response = await SELF.fetch(`${BASE}/health/ready`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as Readiness;
    expect(body).toMatchObject({ status: "ready", version: APP_VERSION, failed: [] });
    expect(body.checks.map((check) => check.name)).toEqual(CHECK_NAMES);
    for (const check of body.checks) {
      expect(check.ok).toBe(true);
      expect(Number.isInteger(check.latency_ms) && check.latency_ms >= 0).toBe(true);
      expect(check.error).toBeUndefined();
    }
    expectSecurityHeaders(response);
  });

  it("answers 503 naming D1 when D1 fails, without the raw error in the body", async () => {
    const { response, body, logs } = await readiness({ DB: unavailableD1 });
    expect(response.status).toBe(503);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("Retry-After")).toBe("10");
    expect(body).toMatchObject({ status: "unavailable", failed: ["d1"] });
    const d1 = body.checks.find((check) => check.name === "d1");
    expect(d1).toMatchObject({ ok: false, error: "unavailable" });
    expect(body.checks.filter((check) => check.ok).map((check) => check.name)).toEqual(["r2", "durable_object:rate_limiter", "durable_object:quota"]);
    expect(JSON.stringify(body)).not.toContain("D1_ERROR");
    // The operator sees the cause on the request's one log line.
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: "error", status: 503, failed_checks: ["d1"], check_errors: { d1: "D1_ERROR: Network connection lost." } });
  });

  it("answers 503 naming R2 when R2 fails", async () => {
    const failingR2 = { head: () => Promise.reject(new Error("R2 bucket unavailable")) };
    const { response, body } = await readiness({ FILES: failingR2 });
    expect(response.status).toBe(503);
    expect(body.failed).toEqual(["r2"]);
  });

  it("answers 503 naming the Durable Object namespace when it fails", async () => {
    const failingNamespace = {
      idFromName: () => {
        throw new Error("Durable Object namespace unavailable");
      },
    };
    const { response, body } = await readiness({ RATE_LIMITER: failingNamespace });
    expect(response.status).toBe(503);
    expect(body.failed).toEqual(["durable_object:rate_limiter"]);
  });

  it("fails a check that does not answer within its 2 s budget, and one that rejects with a non-Error", async () => {
    const hangingD1 = { prepare: () => ({ first: () => new Promise(() => {}) }) };
    const oddR2 = { head: () => Promise.reject("bucket says no") };
    const { response, body, logs } = await readiness({ DB: hangingD1, FILES: oddR2 });
    expect(response.status).toBe(503);
    expect(body.failed).toEqual(["d1", "r2"]);
    expect(body.checks.find((check) => check.name === "d1")?.error).toBe("timed out after 2000 ms");
    expect(logs[0]?.check_errors).toEqual({ d1: "timed out after 2000 ms", r2: "bucket says no" });
  });

  it("names every failed check at once", async () => {
    const { response, body } = await readiness({ DB: unavailableD1, FILES: null, RATE_LIMITER: null, QUOTA: null });
    expect(response.status).toBe(503);
    expect(body.failed).toEqual(CHECK_NAMES);
    expect(body.checks.every((check) => !check.ok && check.error === "unavailable")).toBe(true);
  });

});

describe("health probes are open and unlimited", () => {
  it("ignore a bogus Authorization header and carry no rate-limit state, however often they are called", async () => {
    for (let i = 0; i < 10; i++) {
      for (const path of ["/health", "/health/ready"]) {
        const response = await SELF.fetch(`${BASE}${path}`, { headers: { Authorization: "Bearer not-a-token" } });
        expect(response.status, path).toBe(200);
        expect(response.headers.get("RateLimit"), path).toBeNull();
        await response.body?.cancel();
      }
    }
  });
});

describe("GET /", () => {
  it("answers with the service index", async () => {
    const response = await SELF.fetch(`${BASE}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      name: "Edge Auth API",
      version: APP_VERSION,
      links: { docs: "/docs", openapi: "/openapi.json", health: "/health", problems: "/problems" },
    });
    expectSecurityHeaders(response);
  });
});
