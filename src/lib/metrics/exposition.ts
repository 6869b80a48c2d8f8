import { metricCatalog, type MetricDefinition } from "./catalog";
import { escapeLabelValue } from "./recorder";

/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: prom-client, the
 * maintained Node library, needs Node's cluster/v8/perf_hooks modules and a process-wide
 * registry, neither of which exists in workerd (see docs/metrics.md for what was checked).
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A value read at scrape time (counts of rows in D1), rendered as a gauge family. */
export interface GaugeFamily {
  name: string;
  help: string;
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Adds one label to a series key: `name{a="x"}` + le → `name_bucket{a="x",le="0.1"}`. */
function withLabel(series: string, suffix: string, label: string, value: string): string {
  const brace = series.indexOf("{");
  const name = brace === -1 ? series : series.slice(0, brace);
  const labels = brace === -1 ? "" : series.slice(brace + 1, -1);
  return `${name}${suffix}{${labels ? `${labels},` : ""}${label}="${value}"}`;
}

function withSuffix(series: string, suffix: string): string {
  const brace = series.indexOf("{");
  return brace === -1 ? `${series}${suffix}` : `${series.slice(0, brace)}${suffix}${series.slice(brace)}`;
}

function familyOf(series: string): string {
  const brace = series.indexOf("{");
  return brace === -1 ? series : series.slice(0, brace);
}

function renderHistogram(lines: string[], series: string, values: readonly number[], buckets: readonly number[]): void {
  let cumulative = 0;
  buckets.forEach((bound, index) => {
    cumulative += values[index] ?? 0;
    lines.push(`${withLabel(series, "_bucket", "le", String(bound))} ${cumulative}`);
  });
  cumulative += values[buckets.length] ?? 0;
  lines.push(`${withLabel(series, "_bucket", "le", "+Inf")} ${cumulative}`);
  lines.push(`${withSuffix(series, "_sum")} ${formatValue(values[buckets.length + 1] ?? 0)}`);
  lines.push(`${withSuffix(series, "_count")} ${cumulative}`);
}

/**
 * Renders aggregated series (keys and values as `recordMetric` builds them) and scrape-time
 * gauges. Families appear in catalog order with HELP and TYPE; series of unknown names (a metric
 * removed from the catalog while its rows remain) are skipped.
 */
export function renderExposition(series: ReadonlyMap<string, readonly number[]>, gauges: readonly GaugeFamily[] = []): string {
  const byFamily = new Map<string, string[]>();
  for (const key of [...series.keys()].sort()) {
    const family = familyOf(key);
    const list = byFamily.get(family) ?? [];
    list.push(key);
    byFamily.set(family, list);
  }
  const lines: string[] = [];
  for (const [name, definition] of Object.entries(metricCatalog) as Array<[string, MetricDefinition]>) {
    const keys = byFamily.get(name);
    if (!keys) continue;
    lines.push(`# HELP ${name} ${escapeHelp(definition.help)}`, `# TYPE ${name} ${definition.type}`);
    for (const key of keys) {
      const values = series.get(key) ?? [];
      if (definition.type === "histogram") renderHistogram(lines, key, values, definition.buckets);
      else lines.push(`${key} ${formatValue(values[0] ?? 0)}`);
    }
  }
  for (const gauge of gauges) {
    lines.push(`# HELP ${gauge.name} ${escapeHelp(gauge.help)}`, `# TYPE ${gauge.name} gauge`);
    for (const sample of gauge.samples) {
      const labels = Object.entries(sample.labels ?? {}).map(([label, value]) => `${label}="${escapeLabelValue(value)}"`);
      lines.push(`${gauge.name}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
