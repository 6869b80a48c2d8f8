import type { Bindings } from "../../bindings";
import { renderExposition, type GaugeFamily } from "../../lib/metrics/exposition";
import { flushMetrics, metricsAggregator } from "../../lib/metrics/flush";
import type { Logger } from "../../lib/logger";
import type { Metrics } from "./metrics.schemas";
import { collectMetrics } from "./metrics.service";

/**
 * The business counters of GET /api/v1/metrics as gauges, so one scrape carries everything and
 * the JSON endpoint stays a view of the same numbers (one service, two formats).
 */
export function businessGauges(metrics: Metrics): GaugeFamily[] {
  const { users, sessions, security_events_last_24h: events, files } = metrics;
  return [
    { name: "edge_auth_build_info", help: "The running version (always 1)", samples: [{ labels: { version: metrics.version }, value: 1 }] },
    {
      name: "edge_auth_users",
      help: "User accounts by state (read from D1 at scrape time)",
      samples: Object.entries(users).map(([state, value]) => ({ labels: { state }, value })),
    },
    { name: "edge_auth_sessions_live", help: "Sessions not ended and not expired", samples: [{ value: sessions.live }] },
    { name: "edge_auth_sessions_started_24h", help: "Sessions started in the last 24 hours", samples: [{ value: sessions.started_last_24h }] },
    {
      name: "edge_auth_security_events_24h",
      help: "Audited security events of the last 24 hours, by event",
      samples: Object.entries(events).map(([event, value]) => ({ labels: { event }, value })),
    },
    { name: "edge_auth_files", help: "Stored files", samples: [{ value: files.count }] },
    { name: "edge_auth_files_bytes", help: "Bytes of stored files", samples: [{ value: files.bytes }] },
  ];
}

/**
 * The scrape: this isolate's pending events first (so what was just recorded here is visible),
 * then the aggregated totals and the business gauges, in the text exposition format.
 */
export async function scrapeMetrics(env: Bindings, version: string, logger?: Logger): Promise<string> {
  await flushMetrics(env, logger);
  const [series, business] = await Promise.all([metricsAggregator(env).snapshot(), collectMetrics(env.DB, version)]);
  return renderExposition(new Map(Object.entries(series)), businessGauges(business));
}
