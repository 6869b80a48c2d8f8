import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/env";
import { applyFaults, parseFaults } from "../../src/lib/faults";
import { renderExposition } from "../../src/lib/metrics/exposition";
import { configureMetrics, escapeLabelValue, flushDue, recordMetric, takeBatch } from "../../src/lib/metrics/recorder";

describe("recordMetric and the exposition", () => {
  it("accumulates counters and per-bucket histograms that render cumulatively", () => {
    configureMetrics({ enabled: true });
    takeBatch();
    recordMetric("edge_auth_logins_total", { outcome: "succeeded" });
    recordMetric("edge_auth_logins_total", { outcome: "succeeded" }, 2);
    recordMetric("edge_auth_http_request_duration_seconds", { method: "GET", route: "/a" }, 0.004);
    recordMetric("edge_auth_http_request_duration_seconds", { method: "GET", route: "/a" }, 0.15);
    recordMetric("edge_auth_http_request_duration_seconds", { method: "GET", route: "/a" }, 60);
    recordMetric("edge_auth_refresh_reuse_total", {});
    const batch = takeBatch();
    expect(takeBatch()).toBeNull();
    const text = renderExposition(new Map(batch ?? []));
    expect(text).toContain('# TYPE edge_auth_logins_total counter\nedge_auth_logins_total{outcome="succeeded"} 3\n');
    expect(text).toContain('edge_auth_http_request_duration_seconds_bucket{method="GET",route="/a",le="0.005"} 1\n');
    expect(text).toContain('edge_auth_http_request_duration_seconds_bucket{method="GET",route="/a",le="0.2"} 2\n');
    expect(text).toContain('edge_auth_http_request_duration_seconds_bucket{method="GET",route="/a",le="10"} 2\n');
    expect(text).toContain('edge_auth_http_request_duration_seconds_bucket{method="GET",route="/a",le="+Inf"} 3\n');
    expect(text).toContain('edge_auth_http_request_duration_seconds_sum{method="GET",route="/a"} 60.154\n');
    expect(text).toContain('edge_auth_http_request_duration_seconds_count{method="GET",route="/a"} 3\n');
    expect(text).toContain("edge_auth_refresh_reuse_total 1\n");
  });

  it("records nothing when disabled, ignores non-finite values and escapes label values", () => {
    takeBatch();
    configureMetrics({ enabled: false });
    recordMetric("edge_auth_logins_total", { outcome: "succeeded" });
    expect(takeBatch()).toBeNull();
    configureMetrics({ enabled: true });
    recordMetric("edge_auth_ai_cost_usd_total", { model: "m" }, Number.NaN);
    expect(takeBatch()).toBeNull();
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabelValue("x".repeat(500))).toHaveLength(128);
  });

  it("is due by event count or by age", () => {
    takeBatch(1_000);
    expect(flushDue(1_001, 1, 10_000)).toBe(false);
    recordMetric("edge_auth_logins_total", { outcome: "succeeded" });
    expect(flushDue(1_001, 1, 10_000)).toBe(true);
    expect(flushDue(1_001, 5, 10_000)).toBe(false);
    expect(flushDue(11_000, 5, 10_000)).toBe(true);
    takeBatch();
  });

  it("writes every event to Analytics Engine when a dataset is bound, and survives its failure", () => {
    const points: AnalyticsEngineDataPoint[] = [];
    configureMetrics({ enabled: true, analytics: { writeDataPoint: (point) => points.push(point ?? {}) } });
    recordMetric("edge_auth_http_requests_total", { method: "GET", route: "/x", status_class: "2xx" });
    expect(points).toEqual([{ indexes: ["edge_auth_http_requests_total"], blobs: ["edge_auth_http_requests_total", "GET", "/x", "2xx"], doubles: [1] }]);
    configureMetrics({ enabled: true, analytics: { writeDataPoint: () => { throw new Error("quota"); } } });
    expect(() => recordMetric("edge_auth_logins_total", { outcome: "succeeded" })).not.toThrow();
    configureMetrics({ enabled: true });
    takeBatch();
  });

  it("renders gauges and skips series no longer in the catalog", () => {
    const text = renderExposition(new Map([["gone_metric_total", [4]]]), [
      { name: "edge_auth_users", help: "Users", samples: [{ labels: { state: "total" }, value: 2 }] },
      { name: "edge_auth_files", help: "Files", samples: [{ value: Infinity }] },
    ]);
    expect(text).toBe('# HELP edge_auth_users Users\n# TYPE edge_auth_users gauge\nedge_auth_users{state="total"} 2\n# HELP edge_auth_files Files\n# TYPE edge_auth_files gauge\nedge_auth_files +Inf\n');
  });
});

describe("FAULTS", () => {
  it("parses target[.mode]:probability lists and refuses anything else", () => {
    expect(parseFaults("d1:0.05, r2.slow:1,do.error:0")).toEqual({
      ok: true,
      plan: [
        { target: "d1", mode: "error", probability: 0.05 },
        { target: "r2", mode: "slow", probability: 1 },
        { target: "do", mode: "error", probability: 0 },
      ],
    });
    for (const bad of ["d1", "d1:2", "kv:0.1", "d1.down:0.5", "d1:-0.1"]) expect(parseFaults(bad).ok).toBe(false);
  });

  it("fails or delays with the rule's probability", async () => {
    const plan = [{ target: "d1", mode: "error", probability: 0.5 }] as const;
    await expect(applyFaults(plan, "d1", 1, () => 0.4)).rejects.toThrow(/D1_ERROR/);
    await expect(applyFaults(plan, "d1", 1, () => 0.6)).resolves.toBeUndefined();
    await expect(applyFaults(plan, "r2", 1, () => 0)).resolves.toBeUndefined();
    const started = Date.now();
    await applyFaults([{ target: "r2", mode: "slow", probability: 1 }], "r2", 20, () => 0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it("is accepted in development and refused in test, staging and production", () => {
    const base = { PUBLIC_BASE_URL: "http://localhost", JWT_SIGNING_KEYS: JSON.stringify([{ kty: "OKP", crv: "Ed25519", x: "x", d: "d", kid: "k" }]), FAULTS: "d1:0.05" };
    expect(parseConfig({ ...base, ENVIRONMENT: "development" }).ok).toBe(true);
    const refused = parseConfig({ ...base, ENVIRONMENT: "test" });
    expect(refused).toEqual({ ok: false, problems: ["FAULTS (chaos mode) is development-only"] });
    expect(parseConfig({ ...base, ENVIRONMENT: "development", FAULTS: "d1:5" })).toMatchObject({ ok: false });
  });
});
