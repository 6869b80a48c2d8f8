/**
 * The load test's control (`npm run bench:load`): a worker with none of this service's code,
 * served exactly as the service is (the same bundle build, the same Miniflare configuration from
 * wrangler.toml), so that what it suffers under load is the local runtime's doing.
 * - GET / and GET /health: "ok", nothing else.
 * - GET /stand-in: about what GET /api/v1/users/me costs: 4 ms of CPU, one Durable Object call,
 *   one D1 read. With `?write-every=N`, every N-th object call also writes one row in the object's
 *   SQLite storage, as the service's per-user limiter does when an isolate's lease runs out
 *   (src/lib/rate-limit/lease.ts: 100 units per refill at the benchmark's limits).
 *   `?cpu=MS&calls=K&d1-writes=W` change the CPU, the number of object calls and add one D1 batch
 *   of W inserts: `?cpu=60&calls=0` costs what one argon2id hash costs here,
 *   `?cpu=60&calls=3&write-every=1&d1-writes=2` what a login costs (the hash; three exact counter
 *   calls that write: per address, per account, the reset; one batch with the session and its
 *   audit row).
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

let calls = 0;

/** A non-negative integer query parameter, or its default. */
function count(url: URL, name: string, fallback: number): number {
  const value = Number(url.searchParams.get(name) ?? fallback);
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/stand-in") return new Response("ok");
    const end = Date.now() + count(url, "cpu", 4);
    while (Date.now() < end) {
      // Busy: the CPU a request of the service spends (JWT verification, JSON, headers; a hash).
    }
    const every = count(url, "write-every", 0);
    const limiter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("stand-in"));
    for (let call = count(url, "calls", 1); call > 0; call -= 1) {
      calls += 1;
      await limiter.hit(every > 0 && calls % every === 0);
    }
    await env.DB.prepare("select 1").first();
    const d1Writes = count(url, "d1-writes", 0);
    if (d1Writes > 0) {
      const insert = env.DB.prepare("insert into stand_in_writes (at) values (?)");
      // The table exists after the first batch; "if not exists" is then a no-op.
      const table = env.DB.prepare("create table if not exists stand_in_writes (at integer not null)");
      await env.DB.batch([table, ...Array.from({ length: d1Writes }, () => insert.bind(Date.now()))]);
    }
    return new Response("ok");
  },
} satisfies ExportedHandler<StandInEnv>;
