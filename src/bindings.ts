/**
 * The types every layer shares: the worker's bindings and Hono's `AppEnv`. Types only; the imports
 * below are type imports, and none of those modules imports src/env.ts, so nothing here sits in a
 * cycle with the configuration check.
 */
import type { AuditSealer } from "./durable-objects/audit-sealer";
import type { MetricsAggregator } from "./durable-objects/metrics-aggregator";
import type { Quota } from "./durable-objects/quota";
import type { RateLimiter } from "./durable-objects/rate-limiter";
import type { Config } from "./config";
import type { Logger } from "./lib/logger";
import type { Principal } from "./lib/principal";
import type { DocumentJob } from "./modules/ai/ai.jobs";
import type { AiBinding } from "./modules/ai/providers/workers-ai";

/**
 * The worker's bindings: resources from wrangler.toml plus every variable and secret as the
 * runtime hands them over (strings, possibly missing). `parseConfig` turns them into `Config`.
 */
export interface Bindings {
  DB: D1Database;
  FILES: R2Bucket;
  ASSETS: Fetcher;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  QUOTA: DurableObjectNamespace<Quota>;
  /** Operations (issue 14): the Durable Object every isolate's metric batches add up in. */
  METRICS_AGGREGATOR: DurableObjectNamespace<MetricsAggregator>;
  /** Operations: Workers Analytics Engine dataset receiving every metric event too, when configured. */
  METRICS_ANALYTICS?: AnalyticsEngineDataset;
  /** The single sealer of the audit hash chain (src/durable-objects/audit-sealer.ts). */
  AUDIT_SEALER: DurableObjectNamespace<AuditSealer>;
  /** Cloudflare's send_email binding; present only where it is configured (production). */
  MAIL?: SendEmail;
  /** AI gateway: Workers AI (production), Vectorize (production) and the document ingestion queue. */
  AI?: AiBinding;
  VECTORS?: Vectorize;
  AI_DOCUMENTS_QUEUE?: Queue<DocumentJob>;
  [variable: string]: unknown;
}

export interface Variables {
  /** Our id of this request (never the client's). */
  requestId: string;
  /** The caller's own X-Request-Id when it is plain enough to log; for correlation only. */
  clientRequestId?: string;
  config: Config;
  logger: Logger;
  /** Set by the auth middleware once a bearer token is verified. */
  userId?: string;
  /** The verified caller: user, session, current roles and permissions. */
  principal?: Principal;
  /** The D1 session (read replication) the principal was read through; its bookmark is answered. */
  readSession?: D1DatabaseSession;
  /** Machine code of the error answered, for the request log line. */
  errorCode?: string;
  /** Extra fields for the request's single log line (error details and stack, failed checks). */
  logFields?: Record<string, unknown>;
  /** When the timeout middleware answers 504 (epoch ms): outbound calls (AI providers) end before it. */
  deadline?: number;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
