/**
 * Every metric the service records, declared once: its Prometheus type, help text, label names
 * and (for histograms) bucket bounds. `recordMetric` accepts only these names and labels, so a
 * typo cannot create a new series and cardinality stays bounded by what is declared here.
 * Label values must come from small sets (route templates, policy names, models, codes): never a
 * user id, an email or a raw path.
 */

/** Request and dependency latency buckets in seconds, around the 200 ms p95 objective. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10] as const;
const DEPENDENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
/** AI providers answer in seconds, not milliseconds. */
const AI_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60] as const;

interface CounterDefinition {
  type: "counter";
  help: string;
  labels: readonly string[];
}

interface HistogramDefinition {
  type: "histogram";
  help: string;
  labels: readonly string[];
  buckets: readonly number[];
}

export type MetricDefinition = CounterDefinition | HistogramDefinition;

export const metricCatalog = {
  edge_auth_http_requests_total: {
    type: "counter",
    help: "Requests answered, by matched route template and status class",
    labels: ["method", "route", "status_class"],
  },
  edge_auth_http_request_errors_total: {
    type: "counter",
    help: "Problem responses (4xx and 5xx), by route template and problem code",
    labels: ["method", "route", "status_class", "code"],
  },
  edge_auth_http_request_duration_seconds: {
    type: "histogram",
    help: "Time from the request's arrival to its response, by route template",
    labels: ["method", "route"],
    buckets: LATENCY_BUCKETS,
  },
  edge_auth_logins_total: {
    type: "counter",
    help: "Password logins by outcome (succeeded, mfa_required, invalid_credentials, account_disabled, email_not_verified, account_not_approved)",
    labels: ["outcome"],
  },
  edge_auth_refresh_reuse_total: {
    type: "counter",
    help: "Rotated-out refresh tokens presented again after the grace period (the session was ended)",
    labels: [],
  },
  edge_auth_lockouts_total: {
    type: "counter",
    help: "Requests refused because a failure counter (login_account, password_change_user, ...) is exhausted",
    labels: ["policy"],
  },
  edge_auth_mfa_failures_total: {
    type: "counter",
    help: "Failed second-factor checks, by method",
    labels: ["method"],
  },
  edge_auth_rate_limit_decisions_total: {
    type: "counter",
    help: "Rate-limit decisions per policy: allowed, limited, or unavailable (the limiter did not answer)",
    labels: ["policy", "decision"],
  },
  edge_auth_dependency_duration_seconds: {
    type: "histogram",
    help: "Latency of calls to D1, R2, Durable Objects and queues, by dependency and operation",
    labels: ["dependency", "operation"],
    buckets: DEPENDENCY_BUCKETS,
  },
  edge_auth_dependency_errors_total: {
    type: "counter",
    help: "Failed calls to D1, R2, Durable Objects and queues, by dependency and operation",
    labels: ["dependency", "operation"],
  },
  edge_auth_ai_tokens_total: {
    type: "counter",
    help: "AI tokens used, by model and kind (input, output)",
    labels: ["model", "kind"],
  },
  edge_auth_ai_cost_usd_total: {
    type: "counter",
    help: "Estimated AI spend in US dollars, by model",
    labels: ["model"],
  },
  edge_auth_ai_request_duration_seconds: {
    type: "histogram",
    help: "AI provider call latency, by model",
    labels: ["model"],
    buckets: AI_BUCKETS,
  },
  edge_auth_ai_errors_total: {
    type: "counter",
    help: "Failed AI provider calls, by model and error code",
    labels: ["model", "code"],
  },
  edge_auth_ai_blocked_total: {
    type: "counter",
    help: "AI requests or answers blocked by screening, by stage (input, output)",
    labels: ["stage"],
  },
  edge_auth_readiness_failures_total: {
    type: "counter",
    help: "Readiness probes (/health/ready) that found a dependency failing, by check",
    labels: ["check"],
  },
  edge_auth_metrics_flush_failures_total: {
    type: "counter",
    help: "Metric batches an isolate could not hand to the aggregator (their events are lost)",
    labels: [],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof metricCatalog;

/** The label object a metric takes: exactly its declared label names. */
export type MetricLabels<N extends MetricName> = { [K in (typeof metricCatalog)[N]["labels"][number]]: string };
