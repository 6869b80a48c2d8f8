import { metricCatalog, type MetricDefinition, type MetricLabels, type MetricName } from "./catalog";

/**
 * Per-isolate accumulation of metric events. A Worker has no process to scrape, so each isolate
 * adds events into this buffer (a few map updates, no I/O) and the request pipeline hands the
 * buffer to the aggregating Durable Object in batches (see `takeDueBatch`).
 *
 * A series is keyed by its exposition text, `name{label="value",...}`; its values are `[total]`
 * for a counter and `[bucket counts..., +Inf count, sum]` for a histogram (per-bucket, not yet
 * cumulative, so batches and stored series merge by plain addition).
 */
export type MetricBatch = Array<[series: string, values: number[]]>;

/** Longest label value kept: label values come from bounded sets, anything longer is a bug. */
const MAX_LABEL_LENGTH = 128;
/** A runaway label would otherwise grow the buffer without bound; past this new series are dropped. */
const MAX_SERIES = 5_000;

interface RecorderState {
  enabled: boolean;
  series: Map<string, number[]>;
  events: number;
  lastFlush: number;
  analytics?: AnalyticsEngineDataset;
}

const state: RecorderState = { enabled: true, series: new Map(), events: 0, lastFlush: Date.now() };

/** Escapes a label value as the text exposition format requires (backslash, quote, newline). */
export function escapeLabelValue(value: string): string {
  return value.slice(0, MAX_LABEL_LENGTH).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** `name{a="x",b="y"}` in the catalog's label order; `name` alone when the metric has no labels. */
export function seriesKey(name: string, definition: MetricDefinition, labels: Record<string, string>): string {
  if (definition.labels.length === 0) return name;
  const pairs = definition.labels.map((label) => `${label}="${escapeLabelValue(labels[label] ?? "")}"`);
  return `${name}{${pairs.join(",")}}`;
}

/**
 * Settings the pipeline applies on each request (cheap assignments): whether to record at all and
 * where the Analytics Engine copy goes, if a binding is configured.
 */
export function configureMetrics(settings: { enabled: boolean; analytics?: AnalyticsEngineDataset }): void {
  state.enabled = settings.enabled;
  state.analytics = settings.analytics;
}

/**
 * Records one event: adds `value` to a counter (default 1) or observes `value` in a histogram
 * (seconds for durations). The one function every module calls; it never throws and never waits.
 *
 * @example
 * recordMetric("edge_auth_logins_total", { outcome: "succeeded" });
 * recordMetric("edge_auth_ai_tokens_total", { model: "@cf/meta/llama-3.1-8b-instruct", kind: "output" }, 512);
 * recordMetric("edge_auth_ai_request_duration_seconds", { model }, elapsedMs / 1000);
 */
export function recordMetric<N extends MetricName>(name: N, labels: MetricLabels<N>, value = 1): void {
  if (!state.enabled || !Number.isFinite(value)) return;
  const definition: MetricDefinition = metricCatalog[name];
  const key = seriesKey(name, definition, labels as Record<string, string>);
  let values = state.series.get(key);
  if (!values) {
    if (state.series.size >= MAX_SERIES) return;
    values = new Array<number>(definition.type === "histogram" ? definition.buckets.length + 2 : 1).fill(0);
    state.series.set(key, values);
  }
  if (definition.type === "counter") {
    values[0] = (values[0] ?? 0) + value;
  } else {
    const buckets = definition.buckets;
    let index = 0;
    while (index < buckets.length && value > (buckets[index] as number)) index += 1;
    values[index] = (values[index] ?? 0) + 1;
    values[buckets.length + 1] = (values[buckets.length + 1] ?? 0) + value;
  }
  state.events += 1;
  writeAnalytics(name, definition, labels as Record<string, string>, value);
}

/**
 * The same event as an Analytics Engine data point (long-term storage queried with SQL; see
 * docs/metrics.md): index = metric name, blobs = label values in catalog order, double = value.
 */
function writeAnalytics(name: string, definition: MetricDefinition, labels: Record<string, string>, value: number): void {
  if (!state.analytics) return;
  try {
    state.analytics.writeDataPoint({
      indexes: [name],
      blobs: [name, ...definition.labels.map((label) => (labels[label] ?? "").slice(0, MAX_LABEL_LENGTH))],
      doubles: [value],
    });
  } catch {
    // Analytics Engine is best effort: a failed write must never fail the request.
  }
}

/** Whether a batch is due: `maxEvents` events recorded, or `maxAgeMs` since the last hand-over. */
export function flushDue(now: number, maxEvents: number, maxAgeMs: number): boolean {
  return state.events > 0 && (state.events >= maxEvents || now - state.lastFlush >= maxAgeMs);
}

/** Takes everything recorded so far (the buffer starts empty again); null when there is nothing. */
export function takeBatch(now = Date.now()): MetricBatch | null {
  state.lastFlush = now;
  if (state.series.size === 0) return null;
  const batch: MetricBatch = [...state.series];
  state.series = new Map();
  state.events = 0;
  return batch;
}

/** Merges `values` into `into` position by position (counters and per-bucket histogram counts). */
export function addValues(into: number[], values: readonly number[]): number[] {
  for (let index = 0; index < values.length; index++) into[index] = (into[index] ?? 0) + (values[index] ?? 0);
  return into;
}
