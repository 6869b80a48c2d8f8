import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { captureLogs, expectProblem } from "../helpers/app-env";
import { createUser, STRONG_PASSWORD, uniqueEmail } from "../helpers/auth";
import { callFaulty as call, count, jsonPost as json } from "../helpers/faults";
import { PNG, uploadForm } from "./files-fixtures";

/**
 * Dependencies failing the way they fail in production, injected through chaos mode (FAULTS,
 * development only) or a binding that fails at one precise step. Each case checks what a client
 * sees (a clear 503, or the documented fail-open), that no partial state is left behind, what
 * readiness says, and that the request is still logged with its error code. The AI gateway's
 * dependencies (its queue, its providers) are in faults-ai.test.ts.
 */
let logs: ReturnType<typeof captureLogs>;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

const requestLines = () => logs.json().filter((line) => line.message === "request");

describe("D1 unavailable (FAULTS=d1:1)", () => {
  it("a login answers 503 with Retry-After, starts no session, and is logged with its code", async () => {
    const user = await createUser();
    const sessionsBefore = await count("select count(*) as n from sessions where user_id = ?", user.id);
    const response = await call("/api/v1/auth/login", json({ email: user.email, password: user.password }), { FAULTS: "d1:1" });
    await expectProblem(response, 503, "service_unavailable");
    expect(response.headers.get("Retry-After")).toBe("5");
    expect(await count("select count(*) as n from sessions where user_id = ?", user.id)).toBe(sessionsBefore);
    expect(requestLines().at(-1)).toMatchObject({ status: 503, error_code: "service_unavailable", route: "/api/v1/auth/login" });
  });

  it("registration still answers 202 (its account is created after the response, issue 9), creates nothing, and logs the failed background work", async () => {
    const email = uniqueEmail("d1-down");
    const response = await call("/api/v1/auth/register", json({ email, password: STRONG_PASSWORD, first_name: "A", last_name: "B" }), { FAULTS: "d1:1" });
    expect(response.status).toBe(202);
    expect(await count("select count(*) as n from users where email = ?", email)).toBe(0);
    expect(logs.json().some((line) => line.level === "error" && line.message === "background task failed")).toBe(true);
  });

  it("readiness answers 503 naming d1, and only d1", async () => {
    const response = await call("/health/ready", {}, { FAULTS: "d1:1" });
    expect(response.status).toBe(503);
    const body = await response.json<{ failed: string[]; checks: Array<{ name: string; ok: boolean; error?: string }> }>();
    expect(body.failed).toEqual(["d1"]);
    expect(requestLines().at(-1)).toMatchObject({ status: 503, failed_checks: ["d1"] });
  });

  it("an authenticated read answers 503 (or 200 from the auth cache), never 401 or 500", async () => {
    const user = await createUser();
    const response = await call("/api/v1/users/me", { headers: { Authorization: `Bearer ${user.accessToken}` } }, { FAULTS: "d1:1" });
    // The auth path's per-isolate cache (issue 10) may answer a just-seen session without D1: 200.
    // Otherwise the only acceptable answer is a 503 problem.
    expect([200, 503]).toContain(response.status);
    if (response.status === 503) await expectProblem(response, 503, "service_unavailable");
  });
});

describe("D1 slow (FAULTS=d1.slow:1)", () => {
  it("readiness reports d1 timed out after its 2 s budget", async () => {
    const response = await call("/health/ready", {}, { FAULTS: "d1.slow:1", FAULTS_DELAY_MS: "2300" });
    expect(response.status).toBe(503);
    const body = await response.json<{ failed: string[]; checks: Array<{ name: string; error?: string }> }>();
    expect(body.failed).toEqual(["d1"]);
    expect(body.checks.find((check) => check.name === "d1")?.error).toMatch(/timed out/);
  });

  it("a request past REQUEST_TIMEOUT_MS answers 504; the login's batch is all or nothing", async () => {
    const user = await createUser();
    const response = await call("/api/v1/auth/login", json({ email: user.email, password: user.password }), {
      FAULTS: "d1.slow:1",
      FAULTS_DELAY_MS: "400",
      REQUEST_TIMEOUT_MS: "100",
    });
    await expectProblem(response, 504, "timeout");
    // The handler went on after the 504 (JavaScript cannot cancel it): let it finish, then every
    // session it started has its refresh token, and every refresh token its session.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const sessions = await count("select count(*) as n from sessions where user_id = ?", user.id);
    const tokens = await count("select count(distinct session_id) as n from refresh_tokens where session_id in (select id from sessions where user_id = ?)", user.id);
    expect(tokens).toBe(sessions);
    expect(requestLines().at(-1)).toMatchObject({ status: 504, error_code: "timeout" });
  });
});

describe("R2 unavailable (FAULTS=r2:1)", () => {
  it("an upload answers 503, writes no row and charges no quota", async () => {
    const user = await createUser();
    const before = await count("select coalesce(sum(size), 0) as n from files where owner_id = ?", user.id);
    const response = await call("/api/v1/files", { method: "POST", headers: { Authorization: `Bearer ${user.accessToken}` }, body: uploadForm(PNG, { name: "a.png", type: "image/png" }) }, { FAULTS: "r2:1" });
    await expectProblem(response, 503, "service_unavailable");
    expect(await count("select count(*) as n from files where owner_id = ?", user.id)).toBe(0);
    expect(await count("select coalesce(sum(size), 0) as n from files where owner_id = ?", user.id)).toBe(before);
    expect((await env.FILES.list({ prefix: `files/${user.id}/` })).objects).toHaveLength(0);
    expect(requestLines().at(-1)).toMatchObject({ status: 503, error_code: "service_unavailable", route: "/api/v1/files" });
  });

  it("readiness names r2", async () => {
    const body = await (await call("/health/ready", {}, { FAULTS: "r2:1" })).json<{ failed: string[] }>();
    expect(body.failed).toEqual(["r2"]);
  });

  it("D1 failing after the object is stored leaves no orphan object and no row", async () => {
    const user = await createUser();
    const failingBatch = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") return () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const response = await call("/api/v1/files", { method: "POST", headers: { Authorization: `Bearer ${user.accessToken}` }, body: uploadForm(PNG, { name: "b.png", type: "image/png" }) }, { DB: failingBatch });
    await expectProblem(response, 503, "service_unavailable");
    expect(await count("select count(*) as n from files where owner_id = ?", user.id)).toBe(0);
    expect((await env.FILES.list({ prefix: `files/${user.id}/` })).objects).toHaveLength(0);
  });
});

describe("Durable Objects failing (FAULTS=do:1)", () => {
  it("login (a fail-closed limiter) answers 503 before any password is checked", async () => {
    const user = await createUser();
    const failedBefore = await count("select count(*) as n from audit_logs where action = 'user.login_failed' and target_id = ?", user.id);
    const response = await call("/api/v1/auth/login", json({ email: user.email, password: "a wrong password" }), { FAULTS: "do:1" });
    await expectProblem(response, 503, "service_unavailable");
    expect(await count("select count(*) as n from audit_logs where action = 'user.login_failed' and target_id = ?", user.id)).toBe(failedBefore);
    expect(requestLines().at(-1)).toMatchObject({ status: 503, error_code: "service_unavailable" });
  });

  it("an authenticated read fails open (documented: api_user) and answers 200", async () => {
    const user = await createUser();
    const response = await call("/api/v1/users/me", { headers: { Authorization: `Bearer ${user.accessToken}` } }, { FAULTS: "do:1" });
    expect(response.status).toBe(200);
    expect(logs.json().some((line) => line.message === "rate limiter unavailable; failing open")).toBe(true);
  });

  it("readiness names both Durable Object namespaces", async () => {
    const body = await (await call("/health/ready", {}, { FAULTS: "do:1" })).json<{ failed: string[] }>();
    expect(body.failed).toEqual(["durable_object:rate_limiter", "durable_object:quota"]);
  });
});

describe("chaos mode is development-only", () => {
  it("FAULTS in the test environment makes the service refuse to run (503 misconfigured)", async () => {
    const response = await call("/health", {}, { ENVIRONMENT: "test", FAULTS: "d1:0.05" });
    await expectProblem(response, 503, "misconfigured");
  });

  it("partial chaos (d1:0) changes nothing", async () => {
    expect((await call("/health/ready", {}, { FAULTS: "d1:0,r2:0" })).status).toBe(200);
  });
});
