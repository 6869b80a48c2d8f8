import type { Bindings } from "../../bindings";
import { describeError, type Logger } from "../logger";
import { recordMetric, takeBatch, type MetricBatch } from "./recorder";

/** The single aggregating object: every isolate's batches and every scrape meet there. */
export function metricsAggregator(env: Bindings) {
  return env.METRICS_AGGREGATOR.get(env.METRICS_AGGREGATOR.idFromName("global"));
}

/**
 * Hands this isolate's buffer to the aggregator. A failed hand-over loses that batch (counted in
 * edge_auth_metrics_flush_failures_total) rather than retrying: re-adding it could count twice if
 * the aggregator applied it before the error reached us.
 */
export async function flushMetrics(env: Bindings, logger?: Logger, batch: MetricBatch | null = takeBatch()): Promise<void> {
  if (!batch) return;
  try {
    await metricsAggregator(env).ingest(batch);
  } catch (error) {
    recordMetric("edge_auth_metrics_flush_failures_total", {});
    logger?.warn("metrics flush failed", describeError(error));
  }
}
