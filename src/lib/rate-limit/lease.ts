import type { LimitState } from "../../durable-objects/rate-limiter";
import type { ResolvedPolicy } from "./policies";

/**
 * Leases for approximate policies (general throttling: `api_user`, `api_anonymous`). Instead of
 * one Durable Object call per request, the isolate takes a batch of units from the object in one
 * call (the object counts them all at once) and hands them out locally until they run out or the
 * lease expires. A refusal is remembered the same way, so a flood is refused without a call each.
 *
 * What this costs in exactness (docs/rate-limits.md): units leased but not used before the lease
 * expires stay counted (a client may be refused up to one lease early per isolate it reaches),
 * and units used up to LEASE_TTL_MS after they were counted can straddle a window edge (a client
 * may get up to one lease more in a window, per isolate). The object still never grants more
 * than `limit` units per window.
 */

/** Longest time leased units may be used, and a refusal remembered. */
export const LEASE_TTL_MS = 2_000;

/** Units taken per call: a twentieth of the limit, at least 1 (small limits stay exact), at most 100. */
export function leaseSize(policy: Pick<ResolvedPolicy, "limit">): number {
  return Math.max(1, Math.min(100, Math.floor(policy.limit / 20)));
}

interface Lease {
  /** Units still available in this isolate. */
  units: number;
  expiresAt: number;
  /** Set when the object refused: the state to answer with until `expiresAt`. */
  refused?: LimitState;
  /** With `refused`: when the object said a request would be admitted again (ms). */
  retryAt?: number;
}

/** Bounded: past this many keys, expired entries go; if all are live, everything goes (conservative). */
const MAX_LEASES = 10_000;
const leases = new Map<string, Lease>();

/**
 * Lease requests in flight, per lease key. Requests that find the lease empty while one is in
 * flight wait for it (single flight) instead of each calling the object for their own unit: under
 * many concurrent requests that herd of one-unit calls queued on one object and throughput fell
 * to a few requests per second.
 */
interface Refill {
  done: Promise<void>;
  finish: () => void;
  startedAt: number;
}
const refills = new Map<string, Refill>();

/** A refill older than this has lost its caller (who always ends it within the limiter's timeout). */
const STALE_REFILL_MS = 5_000;

/** The policy's numbers are part of the key, so a changed override never uses an old lease. */
function leaseKey(policy: ResolvedPolicy, key: string): string {
  return `${policy.name}\0${policy.limit}\0${policy.window}\0${key}`;
}

function prune(now: number): void {
  if (leases.size < MAX_LEASES) return;
  for (const [key, lease] of leases) if (lease.expiresAt <= now) leases.delete(key);
  if (leases.size >= MAX_LEASES) leases.clear();
}

export type LeaseOutcome = { kind: "admitted" } | { kind: "refused"; state: LimitState } | { kind: "ask" };

/**
 * Answers from the isolate's lease when it can: `admitted` takes `cost` local units, `refused`
 * repeats the object's recent refusal, `ask` means the object must be called (see `storeLease`).
 */
export function takeFromLease(policy: ResolvedPolicy, key: string, cost: number, now = Date.now()): LeaseOutcome {
  const lease = leases.get(leaseKey(policy, key));
  if (!lease || lease.expiresAt <= now) return { kind: "ask" };
  if (lease.refused) {
    const retryAfter = Math.max(1, Math.ceil(((lease.retryAt ?? now) - now) / 1000));
    return { kind: "refused", state: { ...lease.refused, retryAfter } };
  }
  if (lease.units < cost) return { kind: "ask" };
  lease.units -= cost;
  return { kind: "admitted" };
}

/**
 * The lease request in flight for this key, if any: wait for it, then `takeFromLease` again.
 *
 * @example
 * for (let round = 0; outcome.kind === "ask" && round < MAX_REFILL_WAITS; round++) {
 *   const refill = refillInFlight(policy, key);
 *   if (!refill) break;
 *   await refill;
 *   outcome = takeFromLease(policy, key, cost);
 * }
 */
export function refillInFlight(policy: ResolvedPolicy, key: string, now = Date.now()): Promise<void> | undefined {
  const refill = refills.get(leaseKey(policy, key));
  if (!refill) return undefined;
  if (now - refill.startedAt <= STALE_REFILL_MS) return refill.done;
  endRefill(leaseKey(policy, key));
  return undefined;
}

/**
 * Claims the refill of this key's lease: returns how many units the call to the object should ask
 * for (a whole lease), or undefined when another request is already refilling it (then this call
 * asks for its own cost only). Every claim must end with `storeLease` or `abandonLeaseRequest`.
 */
export function leaseRequestSize(policy: ResolvedPolicy, key: string, now = Date.now()): number | undefined {
  const id = leaseKey(policy, key);
  if (refills.has(id)) return undefined;
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  refills.set(id, { done, finish, startedAt: now });
  return leaseSize(policy);
}

function endRefill(id: string): void {
  refills.get(id)?.finish();
  refills.delete(id);
}

/** Ends a lease request that got no answer (the limiter failed, or another policy refused). */
export function abandonLeaseRequest(policy: ResolvedPolicy, key: string): void {
  endRefill(leaseKey(policy, key));
}

/**
 * Records what the object answered to a call that asked for up to `leaseSize` units: the units
 * granted beyond this request's cost, or the refusal.
 */
export function storeLease(policy: ResolvedPolicy, key: string, cost: number, state: LimitState, asked: boolean, now = Date.now()): void {
  prune(now);
  if (!state.allowed) {
    const retryAt = now + state.retryAfter * 1000;
    leases.set(leaseKey(policy, key), { units: 0, expiresAt: Math.min(now + LEASE_TTL_MS, retryAt), refused: state, retryAt });
  } else {
    const spare = (state.granted ?? cost) - cost;
    if (spare > 0) keepUnits(leaseKey(policy, key), spare, now);
  }
  if (asked) endRefill(leaseKey(policy, key));
}

function keepUnits(id: string, spare: number, now: number): void {
  // Units still left from an earlier lease stay usable until their own expiry is near enough.
  const existing = leases.get(id);
  const kept = existing && !existing.refused && existing.expiresAt > now ? existing.units : 0;
  leases.set(id, { units: kept + spare, expiresAt: now + LEASE_TTL_MS });
}

/** Gives units back to the isolate's lease (the request was refused by another policy). */
export function returnToLease(policy: ResolvedPolicy, key: string, units: number, now = Date.now()): void {
  const lease = leases.get(leaseKey(policy, key));
  if (lease && !lease.refused && lease.expiresAt > now) lease.units += units;
}
