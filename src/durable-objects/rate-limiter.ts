import { SqlObject } from "./sql-object";

/** One policy to evaluate for this object's key. Limits travel with the call, so overrides apply at once. */
export interface LimitRequest {
  policy: string;
  /** Units allowed in any sliding window. */
  limit: number;
  /** Window length in seconds. */
  window: number;
  /** Units this request takes (1 for a request). */
  cost: number;
  /**
   * The bucket inside this object, when one object serves many keys (the email shards); defaults
   * to the policy name, for objects that serve one key.
   */
  bucket?: string;
  /**
   * A lease (approximate policies, src/lib/rate-limit/lease.ts): when admitted, count and grant
   * up to this many units (at least `cost`), for the isolate to hand out without calling again.
   */
  upTo?: number;
}

/** The state of one policy after a call, everything the RateLimit fields need. */
export interface LimitState {
  policy: string;
  limit: number;
  window: number;
  /** Whether this policy alone would admit the request. */
  allowed: boolean;
  /** Units left in the current window after this call (what `check` counted is already taken off). */
  remaining: number;
  /** Seconds until the oldest counted unit leaves the window (the draft's `t`); null when none is counted. */
  reset: number | null;
  /** Seconds until a request of this cost would be admitted; 0 when it is. */
  retryAfter: number;
  /** When the units were counted (ms), to refund exactly them; null when nothing was counted. */
  countedAt: number | null;
  /** With `upTo`: the units counted for this call, `cost` included. */
  granted?: number;
  /** Set by the worker for approximate policies: `remaining` is unknown, the RateLimit field omits it. */
  approximate?: boolean;
}

export interface LimitDecision {
  /** True when every policy admits the request; only then is anything counted. */
  allowed: boolean;
  states: LimitState[];
}

export interface RefundRequest {
  policy: string;
  limit: number;
  window: number;
  cost: number;
  countedAt: number;
  bucket?: string;
}

const bucketOf = (request: { policy: string; bucket?: string }) => request.bucket ?? request.policy;

interface HitRow extends Record<string, SqlStorageValue> {
  at: number;
  units: number;
}

/** Rows per window: units are counted in slots of 1/60 of the window. */
const SLOTS_PER_WINDOW = 60;

/**
 * The slot a unit counted at `now` is stored in, named by the slot's END. A unit therefore leaves
 * the window at most one slot (1/60 of the window) after it really would: late, never early, so
 * the limit is never exceeded, and a bucket holds at most 61 rows whatever the traffic.
 */
function slotOf(now: number, windowSeconds: number): number {
  const slotMs = Math.max(1, Math.ceil((windowSeconds * 1000) / SLOTS_PER_WINDOW));
  return Math.ceil(now / slotMs) * slotMs;
}

/**
 * A sliding window per bucket: per policy for one partition key (a hashed IP, user id or
 * session), or per policy and hashed email for the shared email shards (see src/lib/rate-limit/keys.ts).
 * Never over the limit: a request is admitted only if the units counted in the last `window`
 * seconds plus its cost stay within `limit`, where a unit counts until its slot's end plus the
 * window (at most 1/60 of the window longer than an exact log). Every method reads and writes
 * SQLite synchronously without awaiting, so the object's single thread makes each call atomic:
 * concurrency can never overshoot.
 *
 * Storage and work per call are O(1) in the traffic: a bucket keeps at most 61 rows (one per
 * slot with hits; a log with one row per millisecond grew with the request rate and slowed every
 * call), expired rows are pruned on every call, and an alarm wipes the object once all its rows
 * have expired.
 */
export class RateLimiter extends SqlObject {
  protected readonly schema = `create table if not exists hits (
       policy text not null,
       at integer not null,
       units integer not null,
       expires_at integer not null,
       primary key (policy, at)
     ) without rowid`;

  /** Also creates the table: the email shards are warmed with `ping` (src/lib/rate-limit/enforce.ts). */
  override async ping(): Promise<"pong"> {
    this.ensureSchema();
    return super.ping();
  }

  /** Evaluates every policy and, only if all admit the request, counts its cost in each of them. */
  check(requests: LimitRequest[]): LimitDecision {
    const now = this.clock();
    this.ensureSchema();
    const evaluated = requests.map((request) => this.evaluate(request, now));
    const allowed = evaluated.every((state) => state.allowed);
    if (!allowed) return { allowed, states: evaluated };
    const states = requests.map((request, index) => {
      const before = evaluated[index] as LimitState;
      // A lease takes what is left, up to what was asked, never less than the request's own cost.
      const granted = request.upTo === undefined ? request.cost : Math.max(request.cost, Math.min(request.upTo, before.remaining));
      const countedAt = this.count({ ...request, cost: granted }, now);
      const state = this.evaluate({ ...request, cost: 0 }, now, countedAt);
      return request.upTo === undefined ? state : { ...state, granted };
    });
    this.scheduleExpiry(now + Math.max(...requests.map((request) => request.window)) * 1000);
    return { allowed, states };
  }

  /** The current state of each policy for a request of the given cost, counting nothing. */
  peek(requests: LimitRequest[]): LimitState[] {
    const now = this.clock();
    this.ensureSchema();
    return requests.map((request) => this.evaluate(request, now));
  }

  /** Takes back units counted by `check` (a request that in the end did not count). */
  refund(refunds: RefundRequest[]): LimitState[] {
    const now = this.clock();
    this.ensureSchema();
    return refunds.map((refund) => {
      const sql = this.ctx.storage.sql;
      sql.exec("update hits set units = units - ? where policy = ? and at = ?", refund.cost, bucketOf(refund), refund.countedAt);
      sql.exec("delete from hits where policy = ? and at = ? and units <= 0", bucketOf(refund), refund.countedAt);
      return this.evaluate({ ...refund, cost: 0 }, now);
    });
  }

  /** Forgets everything counted for these policies (a successful login clears its failures). */
  reset(requests: LimitRequest[]): LimitState[] {
    const now = this.clock();
    this.ensureSchema();
    return requests.map((request) => {
      this.ctx.storage.sql.exec("delete from hits where policy = ?", bucketOf(request));
      return this.evaluate({ ...request, cost: 0 }, now);
    });
  }

  /** Deletes expired rows; wipes the whole object once nothing is left, else sleeps until the last row expires. */
  override async alarm(): Promise<void> {
    this.ensureSchema();
    const now = this.clock();
    const sql = this.ctx.storage.sql;
    sql.exec("delete from hits where expires_at <= ?", now);
    const latest = sql.exec<{ latest: number | null }>("select max(expires_at) as latest from hits").one().latest;
    await this.wipeOrSleepUntil(latest === null, latest);
  }

  /** Counts the request's units in the current slot; returns the slot (what a refund names). */
  private count(request: LimitRequest, now: number): number {
    const at = slotOf(now, request.window);
    if (request.cost <= 0) return at;
    this.ctx.storage.sql.exec(
      `insert into hits (policy, at, units, expires_at) values (?, ?, ?, ?)
       on conflict (policy, at) do update set units = units + excluded.units, expires_at = excluded.expires_at`,
      bucketOf(request),
      at,
      request.cost,
      at + request.window * 1000,
    );
    return at;
  }

  private evaluate(request: LimitRequest, now: number, countedAt: number | null = null): LimitState {
    const sql = this.ctx.storage.sql;
    const windowMs = request.window * 1000;
    sql.exec("delete from hits where policy = ? and at <= ?", bucketOf(request), now - windowMs);
    const { used, oldest } = sql
      .exec<{ used: number; oldest: number | null }>("select coalesce(sum(units), 0) as used, min(at) as oldest from hits where policy = ?", bucketOf(request))
      .one();
    const allowed = used + request.cost <= request.limit;
    return {
      policy: request.policy,
      limit: request.limit,
      window: request.window,
      allowed,
      remaining: Math.max(0, request.limit - used),
      reset: oldest === null ? null : secondsUntil(oldest + windowMs, now),
      retryAfter: allowed ? 0 : this.retryAfter(request, used + request.cost - request.limit, now),
      countedAt,
    };
  }

  /** Seconds until enough of the oldest units have left the window to free `needed` units. */
  private retryAfter(request: LimitRequest, needed: number, now: number): number {
    // A cost above the limit never fits; the window is the honest longest wait to report.
    if (request.cost > request.limit) return request.window;
    const rows = this.ctx.storage.sql.exec<HitRow>("select at, units from hits where policy = ? order by at", bucketOf(request));
    let freed = 0;
    for (const row of rows) {
      freed += row.units;
      if (freed >= needed) return Math.max(1, secondsUntil(row.at + request.window * 1000, now));
    }
    return request.window;
  }

  /** Only when no alarm is set: alarm() itself moves on to the latest expiry. */
  private scheduleExpiry(at: number): void {
    if (this.alarmAt !== null) return;
    this.setAlarmSoon(at);
  }
}

function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}
