/**
 * The load test's control (`npm run bench:load`): a worker with none of this service's code,
 * served exactly as the service is (the same bundle build, the same Miniflare configuration from
 * wrangler.toml), so that what it suffers under load is the local runtime's doing.
 * - GET / and GET /health: "ok", nothing else.
 * - GET /stand-in: about what GET /api/v1/users/me costs: a few ms of CPU, one Durable Object
 *   call, one D1 read. With `?write-every=N`, every N-th such call also writes one row in the
 *   object's SQLite storage, as the service's per-user limiter does when an isolate's lease runs
 *   out (src/lib/rate-limit/lease.ts: 100 units per refill at the benchmark's limits).
 * Never deployed.
 */
import { DurableObject } from "cloudflare:workers";

interface StandInEnv {
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  DB: D1Database;
}

/** Stands in for the limiter object: counts calls, optionally in storage. */
export class RateLimiter extends DurableObject<StandInEnv> {
  private calls = 0;

  constructor(ctx: DurableObjectState, env: StandInEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("create table if not exists hits (bucket text primary key, units integer not null)");
  }

  hit(write: boolean): number {
    if (write) this.ctx.storage.sql.exec("insert into hits values ('stand-in', 1) on conflict (bucket) do update set units = units + 1");
    return ++this.calls;
  }
}

// wrangler.toml binds these classes too; the stand-in never calls them.
export class Quota extends DurableObject {}
export class AuditSealer extends DurableObject {}
export class MetricsAggregator extends DurableObject {}

const CPU_MS = 4;
let calls = 0;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/stand-in") return new Response("ok");
    const end = Date.now() + CPU_MS;
    while (Date.now() < end) {
      // Busy: the CPU a request of the service spends (JWT verification, JSON, headers).
    }
    const every = Number(url.searchParams.get("write-every") ?? 0);
    calls += 1;
    await env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("stand-in")).hit(every > 0 && calls % every === 0);
    await env.DB.prepare("select 1").first();
    return new Response("ok");
  },
} satisfies ExportedHandler<StandInEnv>;
