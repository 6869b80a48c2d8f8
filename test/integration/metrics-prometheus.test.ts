import { SELF } from "cloudflare:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BASE, authedFetch, createUser, login, postJson, STRONG_PASSWORD, uniqueEmail } from "../helpers/auth";
import { callApp, captureLogs } from "../helpers/app-env";

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

let lastText = "";

/**
 * Scrapes and parses. parse-prometheus-text-format reads counters and gauges fully but drops the
 * labels of histogram samples, so histograms are checked on the text (and the whole scrape with
 * `promtool check metrics` in scripts/check-ops.mjs).
 */
async function scrape(token: string): Promise<Family[]> {
  const response = await authedFetch(`${BASE}/metrics`, token);
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  lastText = await response.text();
  return parsePrometheusTextFormat(lastText) as Family[];
}

/** The value of one exact sample line of the last scrape. */
function line(series: string): number {
  const found = lastText.split("\n").find((text) => text.startsWith(`${series} `));
  return Number(found?.slice(series.length + 1));
}

function sample(families: Family[], name: string, labels: Record<string, string>): Sample | undefined {
  return families.find((family) => family.name === name)?.metrics.find((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value));
}

const counter = (families: Family[], name: string, labels: Record<string, string>) => Number(sample(families, name, labels)?.value ?? 0);

describe("route label", () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  it("is the template that answered: /users/me and /users/{id} stay apart, whatever the status", async () => {
    const admin = await createUser({ roles: ["admin"] });
    const headers = { Authorization: `Bearer ${admin.accessToken}` };
    const call = (path: string, init: RequestInit = {}) => callApp(`${BASE}${path}`, { ...init, headers }, { env: { LOG_LEVEL: "info" } });
    expect((await call("/api/v1/users/me")).status).toBe(200);
    expect((await call(`/api/v1/users/${admin.id}`)).status).toBe(200);
    expect((await call("/api/v1/users/0190b5c8-0000-7000-8000-000000000000")).status).toBe(404);
    expect((await callApp(`${BASE}/api/v1/users/me`, {}, { env: { LOG_LEVEL: "info" } })).status).toBe(401);
    const routes = logs.json().filter((line) => line.message === "request").map((line) => [line.status, line.route]);
    expect(routes).toEqual([
      [200, "/api/v1/users/me"],
      [200, "/api/v1/users/{id}"],
      [404, "/api/v1/users/{id}"],
      [401, "/api/v1/users/me"],
    ]);
  });

  it("is a fixed value for a path no route matches (404) or a method no route serves (405)", async () => {
    await callApp(`${BASE}/api/v1/no/such/path/${crypto.randomUUID()}`, {}, { env: { LOG_LEVEL: "info" } });
    await callApp(`${BASE}/health`, { method: "DELETE" }, { env: { LOG_LEVEL: "info" } });
    expect(logs.json().map((line) => [line.status, line.route])).toEqual([
      [404, "unmatched"],
      [405, "unmatched"],
    ]);
  });
});

describe("GET /metrics", () => {
  it("needs metrics:read: 401 without a token, 403 for a plain user", async () => {
    expect((await SELF.fetch(`${BASE}/metrics`)).status).toBe(401);
    const user = await createUser();
    const forbidden = await authedFetch(`${BASE}/metrics`, user.accessToken);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ code: "forbidden", missing_permissions: ["metrics:read"] });
  });

  it("serves RED metrics per route template and status class, parsed by a Prometheus parser", async () => {
    const admin = await createUser({ roles: ["admin"] });
    const before = await scrape(admin.accessToken);
    const meLabels = { method: "GET", route: "/api/v1/users/me", status_class: "2xx" };
    for (let i = 0; i < 3; i++) expect((await authedFetch("/users/me", admin.accessToken)).status).toBe(200);
    expect((await authedFetch(`/users/${admin.id}`, admin.accessToken)).status).toBe(200);
    expect((await SELF.fetch(`${BASE}/api/v1/no-such-${crypto.randomUUID()}`)).status).toBe(404);
    const after = await scrape(admin.accessToken);

    expect(counter(after, "edge_auth_http_requests_total", meLabels) - counter(before, "edge_auth_http_requests_total", meLabels)).toBe(3);
    const byId = { method: "GET", route: "/api/v1/users/{id}", status_class: "2xx" };
    expect(counter(after, "edge_auth_http_requests_total", byId) - counter(before, "edge_auth_http_requests_total", byId)).toBe(1);
    const notFound = { method: "GET", route: "unmatched", status_class: "4xx", code: "not_found" };
    expect(counter(after, "edge_auth_http_request_errors_total", notFound) - counter(before, "edge_auth_http_request_errors_total", notFound)).toBe(1);
    // No raw path ever becomes a label.
    const routes = after.flatMap((family) => family.metrics.map((metric) => metric.labels?.route).filter(Boolean));
    expect(routes.some((route) => route?.includes(admin.id) || route?.includes("no-such"))).toBe(false);

    expect(after.find((family) => family.name === "edge_auth_http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    const me = 'method="GET",route="/api/v1/users/me"';
    const count = line(`edge_auth_http_request_duration_seconds_count{${me}}`);
    expect(count).toBeGreaterThanOrEqual(3);
    expect(line(`edge_auth_http_request_duration_seconds_bucket{${me},le="+Inf"}`)).toBe(count);
    expect(line(`edge_auth_http_request_duration_seconds_bucket{${me},le="0.005"}`)).toBeLessThanOrEqual(line(`edge_auth_http_request_duration_seconds_bucket{${me},le="10"}`));
    expect(line(`edge_auth_http_request_duration_seconds_sum{${me}}`)).toBeGreaterThanOrEqual(0);
    // Every D1 call is timed; the permission check of /users/me reads D1 with first().
    expect(line('edge_auth_dependency_duration_seconds_count{dependency="d1",operation="first"}')).toBeGreaterThan(0);
    expect(counter(after, "edge_auth_rate_limit_decisions_total", { policy: "api_user", decision: "allowed" })).toBeGreaterThan(0);
    // The business counters ride along as gauges.
    expect(Number(sample(after, "edge_auth_users", { state: "total" })?.value)).toBeGreaterThan(0);
    expect(after.find((family) => family.name === "edge_auth_users")?.type).toBe("GAUGE");
  });

  it("counts logins by outcome, refresh-token reuse and lock-outs", async () => {
    const admin = await createUser({ roles: ["admin"] });
    const before = await scrape(admin.accessToken);
    const user = await createUser();
    const email = uniqueEmail("locked");
    const ip = "198.51.100.77";
    for (let i = 0; i < 6; i++) await postJson("/auth/login", { email, password: "wrong password here" }, { ip });
    const tokens = await login(user.email, STRONG_PASSWORD);
    expect((await postJson("/auth/refresh", { refresh_token: tokens.refresh_token })).status).toBe(200);
    // The rotated-out token again, with no grace period: a reuse, the session ends.
    const reuse = await callApp(`${BASE}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.78" },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    }, { env: { REFRESH_REUSE_GRACE: "0" } });
    expect(reuse.status).toBe(401);
    const after = await scrape(admin.accessToken);
    const delta = (name: string, labels: Record<string, string>) => counter(after, name, labels) - counter(before, name, labels);
    // createUser logs in once, then login() again.
    expect(delta("edge_auth_logins_total", { outcome: "succeeded" })).toBe(2);
    expect(delta("edge_auth_logins_total", { outcome: "invalid_credentials" })).toBe(5);
    expect(delta("edge_auth_lockouts_total", { policy: "login_account" })).toBe(1);
    expect(delta("edge_auth_rate_limit_decisions_total", { policy: "login_account", decision: "limited" })).toBe(1);
    expect(delta("edge_auth_refresh_reuse_total", {})).toBe(1);
  });
});
