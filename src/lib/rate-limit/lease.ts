import type { LimitState } from "../../durable-objects/rate-limiter";
import type { ResolvedPolicy } from "./policies";

/**
 * Leases for approximate policies (general throttling: `api_user`, `api_anonymous`). Instead of
 * one Durable Object call per request, the isolate takes a batch of units from the object in one
 * call (the object counts them all at once) and hands them out locally until they run out or the
 * lease expires. A refusal is remembered the same way, so a flood is refused without a call each.
 *
 * While a refill is in flight for a key the object admitted moments ago, requests are admitted
 * against it (an overdraft of up to one lease per refill in flight, at most MAX_REFILLS_IN_FLIGHT
 * of them): they neither wait nor call the object. Waiting does not work in workerd: a request waiting on a timer or on a promise another
 * request settles is run late, when the busy isolate gets to it, and at 64 connections such
 * waiters stalled for seconds while newcomers were served. Without the overdraft each of them
 * called the object for one unit, and at 1,000 connections that herd queued on one object.
 *
 * What this costs in exactness (docs/rate-limits.md): units leased but not used before the lease
 * expires stay counted (a client may be refused up to one lease early per isolate it reaches);
 * units used up to LEASE_TTL_MS after they were counted can straddle a window edge (up to one lease
 * more in a window, per isolate); and units admitted against refills the object then refuses are
 * not counted (up to MAX_REFILLS_IN_FLIGHT leases more, per isolate, only under that many
 * concurrent requests of one key). The object never grants more than `limit` units per window.
 */

/** Longest time leased units may be used, and a refusal remembered. */
export const LEASE_TTL_MS = 2_000;

/** Refills of one key's lease that may be in flight at once, each backing one lease of overdraft. */
export const MAX_REFILLS_IN_FLIGHT = 2;

/**
 * A refill older than this has lost its caller: a live one ends within the limiter's 2 s timeout,
 * but a request cancelled meanwhile (its client gave up) never ends its claim, and while stale
 * claims hold both slots every request calls the object for one unit.
 */
const STALE_REFILL_MS = 2_500;

/** Units taken per call: a twentieth of the limit, at least 1 (small limits stay exact), at most 100. */
export function leaseSize(policy: Pick<ResolvedPolicy, "limit">): number {
  return Math.max(1, Math.min(100, Math.floor(policy.limit / 20)));
}

interface Lease {
  /** Units still available in this isolate; below zero while admitted against refills in flight. */
  units: number;
  expiresAt: number;
  /** Set when the object refused: the state to answer with until `expiresAt`. */
  refused?: LimitState;
  /** With `refused`: when the object said a request would be admitted again (ms). */
  retryAt?: number;
  /** When each refill in flight began. */
  refills: number[];
  /** Until when requests may be admitted against refills in flight: set by an admitting answer. */
  overdraftUntil: number;
}

/** Bounded: past this many keys, expired entries go; if all are live, everything goes (conservative). */
const MAX_LEASES = 10_000;
const leases = new Map<string, Lease>();

/** The policy's numbers are part of the key, so a changed override never uses an old lease. */
function leaseKey(policy: ResolvedPolicy, key: string): string {
  return `${policy.name}\0${policy.limit}\0${policy.window}\0${key}`;
}

function prune(now: number): void {
  if (leases.size < MAX_LEASES) return;
  for (const [key, lease] of leases) if (lease.expiresAt <= now && lease.refills.length === 0) leases.delete(key);
  if (leases.size >= MAX_LEASES) leases.clear();
}

/** The key's lease with expired units and stale refills dropped (created empty when absent). */
function current(id: string, now: number): Lease {
  let lease = leases.get(id);
  if (!lease) {
    prune(now);
    lease = { units: 0, expiresAt: 0, refills: [], overdraftUntil: 0 };
    leases.set(id, lease);
  }
  // Refills start in order, so only the oldest needs looking at before the list is rebuilt.
  if (lease.refills.length > 0 && now - lease.refills[0]! > STALE_REFILL_MS) lease.refills = lease.refills.filter((startedAt) => now - startedAt <= STALE_REFILL_MS);
  if (lease.expiresAt <= now) {
    // Expired units are gone; an overdraft stays for the refills in flight to pay, if any.
    lease.units = lease.refills.length > 0 ? Math.min(lease.units, 0) : 0;
    lease.refused = undefined;
    lease.retryAt = undefined;
  }
  return lease;
}

/** `ask` carries `upTo` when this request claimed a refill: the call asks for a whole lease. */
export type LeaseOutcome = { kind: "admitted" } | { kind: "refused"; state: LimitState } | { kind: "ask"; upTo?: number };

/**
 * Answers from the isolate's lease when it can: `admitted` takes `cost` local units (from the
 * lease, or as an overdraft on refills in flight), `refused` repeats the object's recent refusal,
 * `ask` means the object must be called (see `storeLease`); with `upTo` the request claimed a
 * refill, and every claim must end with `storeLease` or `abandonLeaseRequest`.
 */
export function takeFromLease(policy: ResolvedPolicy, key: string, cost: number, now = Date.now()): LeaseOutcome {
  const lease = current(leaseKey(policy, key), now);
  if (lease.refused) {
    const retryAfter = Math.max(1, Math.ceil(((lease.retryAt ?? now) - now) / 1000));
    return { kind: "refused", state: { ...lease.refused, retryAfter } };
  }
  // Only a key the object admitted moments ago may run ahead of its refill: after a refusal, or
  // on first contact, every request hears from the object.
  const overdraft = lease.overdraftUntil > now ? lease.refills.length * leaseSize(policy) : 0;
  if (lease.units - cost >= -overdraft) {
    lease.units -= cost;
    return { kind: "admitted" };
  }
  if (lease.refills.length >= MAX_REFILLS_IN_FLIGHT) return { kind: "ask" };
  lease.refills.push(now);
  return { kind: "ask", upTo: leaseSize(policy) };
}

function endRefill(lease: Lease | undefined): void {
  lease?.refills.shift();
}

/** Ends a lease request that got no answer (the limiter failed, or another policy refused). */
export function abandonLeaseRequest(policy: ResolvedPolicy, key: string): void {
  endRefill(leases.get(leaseKey(policy, key)));
}

/**
 * Records what the object answered to a call: the units granted beyond this request's cost (they
 * first pay what was admitted against the refill), or the refusal. `asked`: the call claimed a
 * refill.
 */
export function storeLease(policy: ResolvedPolicy, key: string, cost: number, state: LimitState, asked: boolean, now = Date.now()): void {
  const lease = current(leaseKey(policy, key), now);
  if (asked) endRefill(lease);
  if (!state.allowed) {
    const retryAt = now + state.retryAfter * 1000;
    Object.assign(lease, { units: 0, expiresAt: Math.min(now + LEASE_TTL_MS, retryAt), refused: state, retryAt, overdraftUntil: 0 });
    return;
  }
  lease.overdraftUntil = now + LEASE_TTL_MS;
  const spare = (state.granted ?? cost) - cost;
  if (spare <= 0 && lease.units >= 0) return;
  lease.units += spare;
  lease.expiresAt = now + LEASE_TTL_MS;
}

/** Gives units back to the isolate's lease (the request was refused by another policy). */
export function returnToLease(policy: ResolvedPolicy, key: string, units: number, now = Date.now()): void {
  const lease = leases.get(leaseKey(policy, key));
  if (lease && !lease.refused && (lease.expiresAt > now || lease.refills.length > 0)) lease.units += units;
}
