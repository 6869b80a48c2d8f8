import { createApp } from "./app";
import type { Bindings } from "./bindings";
import type { DocumentJob } from "./modules/ai/ai.jobs";
import { handleAiQueue } from "./modules/ai/ai.queue";
import { auditSealer } from "./lib/audit-sealing";
import { runScheduledSweep } from "./modules/files/files.sweep";

export { MetricsAggregator } from "./durable-objects/metrics-aggregator";
export { AuditSealer } from "./durable-objects/audit-sealer";
export { Quota } from "./durable-objects/quota";
export { RateLimiter } from "./durable-objects/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  // The only cron (wrangler.toml [triggers]): the sweep of R2 objects that have no D1 row, and a
  // backstop seal of the audit chain in case a sealer request was lost.
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runScheduledSweep(env, controller.scheduledTime));
    ctx.waitUntil(auditSealer(env).schedule());
  },
  // AI document ingestion and its dead-letter queue (wrangler.toml [[queues.consumers]]).
  queue: (batch, env) => handleAiQueue(batch as MessageBatch<DocumentJob>, env),
} satisfies ExportedHandler<Bindings>;
