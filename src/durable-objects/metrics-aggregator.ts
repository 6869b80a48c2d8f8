import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../bindings";
import { addValues, type MetricBatch } from "../lib/metrics/recorder";

interface SeriesRow extends Record<string, SqlStorageValue> {
  series: string;
  vals: string;
}

/** Largest batch one call accepts: an isolate's buffer is capped well below this. */
const MAX_BATCH_SERIES = 10_000;

/**
 * The one place the service's metrics add up. Every isolate hands over what it accumulated
 * (`ingest`, from `waitUntil`, every few hundred events or seconds); the scrape reads the totals
 * (`snapshot`). Totals are kept in SQLite so a restart or eviction does not reset the counters;
 * a copy in memory answers scrapes without reading storage. Each call is synchronous SQLite work
 * with no await in between, so concurrent batches cannot interleave.
 */
export class MetricsAggregator extends DurableObject<Bindings> {
  private totals = new Map<string, number[]>();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("create table if not exists series (series text primary key, vals text not null)");
      for (const row of ctx.storage.sql.exec<SeriesRow>("select series, vals from series")) {
        this.totals.set(row.series, JSON.parse(row.vals) as number[]);
      }
    });
  }

  /** Adds a batch to the totals; returns how many series it touched. */
  ingest(batch: MetricBatch): number {
    if (!Array.isArray(batch) || batch.length > MAX_BATCH_SERIES) throw new RangeError("invalid metric batch");
    for (const [series, values] of batch) {
      if (typeof series !== "string" || !Array.isArray(values) || values.some((value) => typeof value !== "number")) continue;
      const total = addValues(this.totals.get(series) ?? [], values);
      this.totals.set(series, total);
      this.ctx.storage.sql.exec(
        "insert into series (series, vals) values (?, ?) on conflict (series) do update set vals = excluded.vals",
        series,
        JSON.stringify(total),
      );
    }
    return batch.length;
  }

  /** Every series with its totals. */
  snapshot(): Record<string, number[]> {
    return Object.fromEntries(this.totals);
  }

  /** Readiness probe: the object answers. */
  ping(): true {
    return true;
  }
}
