import type { Context } from "hono";
import type { LimitDecision, LimitRequest, LimitState, RateLimiter } from "../../durable-objects/rate-limiter";
import type { AppEnv } from "../../bindings";
import { recordMetric } from "../metrics/recorder";
import { describeError } from "../logger";
import { ProblemError, QUOTA_EXCEEDED_TYPE } from "../problem";
import { rateLimitField, rateLimitHeaders, rateLimitPolicyField } from "./headers";
import { emailShardName, emailShardOf, EMAIL_SHARDS, ipBucket, keyedPartitionName, partitionName } from "./keys";
import { abandonLeaseRequest, returnToLease, storeLease, takeFromLease, type LeaseOutcome } from "./lease";
import { rateLimitSecret } from "./secret";
import { type PolicyName, type ResolvedPolicy, resolvePolicies } from "./policies";

/** One policy to apply, keyed by a raw value (IP, user id, normalized email, session id, ...). */
export interface RateLimitCheck {
  policy: PolicyName;
  /** The raw key; hashed before it leaves the worker. */
  key: string;
  /** Units the request takes (default 1). */
  cost?: number;
}

/** What an admitted request carries until its response is known. */
export interface AppliedRateLimits {
  /** The state of every policy that answered, for the RateLimit fields. */
  states: LimitState[];
  /**
   * Finishes `countOnly` policies once the response status is known: the reserved unit stays
   * counted for a listed status, a 2xx clears the bucket where `resetOnSuccess`, anything else
   * is refunded. A no-op when no such policy applied.
   */
  settle(status: number): Promise<void>;
}

/** How long a limiter call may take before the policy's failure mode decides. */
export const LIMITER_TIMEOUT_MS = 2_000;

/** Accumulated policy states per request, so every limit that applied shows in the response. */
const appliedStates = new WeakMap<object, Map<string, LimitState>>();

export interface Partition {
  name: string;
  /** True for an email shard: shared by many accounts, so called only after the other limits admitted. */
  sharded: boolean;
  checks: Array<{ policy: ResolvedPolicy; request: LimitRequest; key: string }>;
}

interface PartitionResult {
  partition: Partition;
  stub: DurableObjectStub<RateLimiter>;
  decision?: LimitDecision;
  error?: unknown;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`rate limiter did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Groups checks by partition key, so each key's object gets exactly one call for all its policies. */
/**
 * What a check counts against: IPv6 clients by their /64 (see ipBucket), everything else by its key.
 * Leases use it too, or every address of one /64 would take its own lease from the /64's budget.
 */
function bucketKey(policy: ResolvedPolicy, key: string): string {
  return policy.key === "ip" ? ipBucket(key) : key;
}

/** `leaseClaims`: the checks that claimed their lease's refill, with the units to ask for. */
export async function partitionChecks(
  policies: Record<PolicyName, ResolvedPolicy>,
  checks: readonly RateLimitCheck[],
  secret: string,
  leaseClaims: ReadonlyMap<RateLimitCheck, number> = new Map(),
): Promise<Partition[]> {
  const byName = new Map<string, Partition>();
  for (const check of checks) {
    const policy = policies[check.policy];
    // Network keys arrive as their /48 already (see keyFor in src/middleware/rate-limit.ts).
    const raw = bucketKey(policy, check.key);
    const sharded = policy.key === "email";
    // Email keys are keyed by the secret: the shard an address lands in cannot be computed outside.
    const hashed = sharded ? await keyedPartitionName(secret, policy.key, raw) : await partitionName(policy.key, raw);
    const name = sharded ? await emailShardName(emailShardOf(hashed)) : hashed;
    const bucket = sharded ? `${policy.name}:${hashed}` : undefined;
    const partition = byName.get(name) ?? { name, sharded, checks: [] };
    byName.set(name, partition);
    const cost = check.cost ?? 1;
    const existing = partition.checks.find((entry) => entry.policy.name === policy.name && entry.request.bucket === bucket);
    // The same policy twice for one key is one check with the summed cost, or it could overshoot.
    if (existing) existing.request.cost += cost;
    else {
      const request: LimitRequest = { policy: policy.name, limit: policy.limit, window: policy.window, cost, ...(bucket ? { bucket } : {}) };
      const upTo = leaseClaims.get(check);
      if (upTo !== undefined) request.upTo = upTo;
      partition.checks.push({ policy, request, key: raw });
    }
  }
  return [...byName.values()];
}

function record(c: Context<AppEnv>, states: readonly LimitState[]): void {
  let map = appliedStates.get(c);
  if (!map) appliedStates.set(c, (map = new Map()));
  for (const state of states) map.set(state.policy, state);
  if (keepsOwnFields(c)) return;
  for (const [name, value] of Object.entries(rateLimitHeaders([...map.values()]))) c.header(name, value);
}

/**
 * A 429 names only its violated policies, matching its Retry-After: nothing may overwrite that.
 * Reads `c.res` only once a response exists: reading it earlier creates one, and Hono then copies
 * its staged headers over the error response onError builds.
 */
function keepsOwnFields(c: Context<AppEnv>): boolean {
  return c.finalized && c.res.status === 429 && c.res.headers.has("RateLimit");
}

/**
 * Writes the RateLimit fields of every policy applied so far onto the final response. Runs after
 * the handler, so error responses built by `onError` carry them too. A 429 keeps the fields it
 * was built with (they name only the violated policies, matching its Retry-After).
 */
export function writeRateLimitHeaders(c: Context<AppEnv>): void {
  const map = appliedStates.get(c);
  if (!map || map.size === 0) return;
  if (keepsOwnFields(c)) return;
  const headers = rateLimitHeaders([...map.values()]);
  try {
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  } catch {
    // Responses passed through from fetch() have immutable headers.
    c.res = new Response(c.res.body, c.res);
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  }
}

const warmedNamespaces = new WeakSet<object>();

/**
 * Wakes every email shard once per isolate, in the background, so that no email-keyed request
 * pays for a cold object (see EMAIL_SHARDS for why that timing must not vary).
 */
function warmEmailShards(c: Context<AppEnv>): void {
  const namespace = c.env.RATE_LIMITER;
  if (warmedNamespaces.has(namespace)) return;
  warmedNamespaces.add(namespace);
  const warming = Promise.all(
    Array.from({ length: EMAIL_SHARDS }, async (_, index) => namespace.get(namespace.idFromName(await emailShardName(index))).ping()),
  ).catch((error: unknown) => c.get("logger")?.warn("email shard warm-up failed", describeError(error)));
  try {
    c.executionCtx.waitUntil(warming);
  } catch {
    // No execution context (direct app.request in unit tests): the promise runs on by itself.
  }
}

/** Takes back what admitted partitions counted, when another partition rejected the request. */
async function refundAll(c: Context<AppEnv>, results: PartitionResult[]): Promise<void> {
  await Promise.all(
    results.map(async ({ partition, stub, decision }) => {
      if (!decision?.allowed) return;
      const refunds = decision.states.flatMap((state) => {
        const request = partition.checks.find((check) => check.request.policy === state.policy)?.request;
        // A lease counted everything it granted: all of it goes back.
        return request && state.countedAt !== null ? [{ ...request, cost: state.granted ?? request.cost, countedAt: state.countedAt }] : [];
      });
      if (refunds.length === 0) return;
      try {
        await withTimeout(Promise.resolve(stub.refund(refunds)), LIMITER_TIMEOUT_MS);
      } catch (error) {
        c.get("logger")?.warn("rate limiter refund failed", describeError(error));
      }
    }),
  );
}

/**
 * Takes back the fields an earlier limiter of this request staged with `c.header`: Hono copies
 * staged headers over the error response onError builds, so they would replace the 429's own
 * fields (which name the violated policies).
 */
function unstageFields(c: Context<AppEnv>): void {
  c.header("RateLimit", undefined);
  c.header("RateLimit-Policy", undefined);
}

function rejection(violated: LimitState[], all: LimitState[]): ProblemError {
  const retryAfter = Math.max(1, ...violated.map((state) => Math.max(state.retryAfter, state.reset ?? 0)));
  return new ProblemError("rate_limited", {
    type: QUOTA_EXCEEDED_TYPE,
    title: "Request cannot be satisfied as assigned quota has been exceeded",
    detail: `Too many requests; retry after ${retryAfter} seconds.`,
    extensions: { "violated-policies": violated.map((state) => state.policy) },
    headers: {
      "Retry-After": String(retryAfter),
      "RateLimit-Policy": rateLimitPolicyField(all),
      RateLimit: rateLimitField(violated.map((state) => ({ ...state, remaining: 0 }))),
    },
  });
}

/**
 * Applies rate-limit policies to the current request: one limiter call per distinct key, all in
 * parallel. Throws a 429 problem (`quota-exceeded`, `violated-policies`, Retry-After, RateLimit
 * fields) when any policy is exhausted; then nothing is counted anywhere. When the limiter fails,
 * a fail-closed policy throws a 503 problem and a fail-open one is skipped with a warning.
 * On success the RateLimit fields are set on the response being prepared.
 *
 * @example In a middleware, after the bearer token is verified:
 * await enforceRateLimits(c, [{ policy: "api_user", key: userId }]);
 */
export async function enforceRateLimits(c: Context<AppEnv>, checks: readonly RateLimitCheck[]): Promise<AppliedRateLimits> {
  const config = c.get("config");
  const policies = resolvePolicies(config);
  if (checks.some((check) => policies[check.policy].key === "email")) warmEmailShards(c);

  // Approximate policies answer from the isolate's lease when they can (no call at all).
  const fromLease: Array<{ policy: ResolvedPolicy; key: string; cost: number }> = [];
  const leaseStates: LimitState[] = [];
  const leaseRefusals: LimitState[] = [];
  const remote: RateLimitCheck[] = [];
  const leaseClaims = new Map<RateLimitCheck, number>();
  const claimedKeys: Array<{ policy: ResolvedPolicy; key: string }> = [];
  for (const check of checks) {
    const policy = policies[check.policy];
    const cost = check.cost ?? 1;
    const key = bucketKey(policy, check.key);
    const outcome: LeaseOutcome = policy.approximate ? takeFromLease(policy, key, cost) : { kind: "ask" };
    if (outcome.kind === "ask") {
      remote.push(check);
      if (outcome.upTo !== undefined) {
        leaseClaims.set(check, outcome.upTo);
        claimedKeys.push({ policy, key });
      }
    } else if (outcome.kind === "refused") leaseRefusals.push(outcome.state);
    else {
      fromLease.push({ policy, key, cost });
      leaseStates.push(approximateState(policy));
    }
  }
  const giveBackLeases = () => {
    for (const taken of fromLease) returnToLease(taken.policy, taken.key, taken.cost);
  };
  if (leaseRefusals.length > 0) {
    giveBackLeases();
    for (const claimed of claimedKeys) abandonLeaseRequest(claimed.policy, claimed.key);
    const applied = new Map(appliedStates.get(c));
    for (const state of [...leaseStates, ...leaseRefusals]) applied.set(state.policy, state);
    unstageFields(c);
    throw rejection(leaseRefusals, [...applied.values()]);
  }

  const partitions = await partitionChecks(policies, remote, await rateLimitSecret(config), leaseClaims);
  const namespace = c.env.RATE_LIMITER;
  const call = (partitions: Partition[]): Promise<PartitionResult[]> =>
    Promise.all(
      partitions.map(async (partition) => {
        const stub = namespace.get(namespace.idFromName(partition.name));
        try {
          const decision = await withTimeout(Promise.resolve(stub.check(partition.checks.map((check) => check.request))), LIMITER_TIMEOUT_MS);
          return { partition, stub, decision: decision as LimitDecision };
        } catch (error) {
          return { partition, stub, error };
        }
      }),
    );
  // The per-IP (and other own-key) limits first: a request they refuse never reaches the shared
  // email shards, so a flood from one network costs those objects nothing.
  const results = await call(partitions.filter((partition) => !partition.sharded));
  const refusedEarly = results.some((result) => result.decision?.allowed === false || (result.error !== undefined && result.partition.checks.some((check) => check.policy.failure === "closed")));
  if (!refusedEarly) results.push(...(await call(partitions.filter((partition) => partition.sharded))));

  const failed = results.filter((result) => result.error !== undefined);
  for (const { partition } of failed) {
    for (const check of partition.checks) if (check.request.upTo !== undefined) abandonLeaseRequest(check.policy, check.key);
  }
  if (failed.length > 0) {
    const failedPolicies = failed.flatMap((result) => result.partition.checks.map((check) => check.policy));
    const closed = failedPolicies.filter((policy) => policy.failure === "closed").map((policy) => policy.name);
    for (const policy of failedPolicies) recordMetric("edge_auth_rate_limit_decisions_total", { policy: policy.name, decision: "unavailable" });
    const fields = { policies: failedPolicies.map((policy) => policy.name), ...describeError(failed[0]?.error) };
    if (closed.length > 0) {
      await refundAll(c, results);
      giveBackLeases();
      throw new ProblemError("service_unavailable", {
        detail: "The rate limiter is temporarily unavailable. Retry shortly.",
        headers: { "Retry-After": "5" },
        cause: failed[0]?.error,
      });
    }
    c.get("logger")?.warn("rate limiter unavailable; failing open", fields);
  }

  const answered = results.filter((result) => result.decision !== undefined);
  const states = answered.flatMap((result) => (result.decision?.states ?? []).map((state) => markApproximate(result.partition, state)));
  const violated = states.filter((state) => !state.allowed);
  rememberLeases(answered, violated.length === 0);
  recordDecisions(policies, states);
  if (violated.length > 0) {
    await refundAll(c, answered);
    giveBackLeases();
    // RateLimit-Policy names every policy applied to the request, including earlier middleware's.
    const applied = new Map(appliedStates.get(c));
    for (const state of [...leaseStates, ...states]) applied.set(state.policy, state);
    unstageFields(c);
    throw rejection(violated, [...applied.values()]);
  }
  record(c, [...leaseStates, ...states]);

  return {
    states,
    settle: async (status) => {
      const updates = await Promise.all(answered.map((result) => settlePartition(c, result, status)));
      record(c, updates.flat());
    },
  };
}

/** The state shown for a request admitted from a lease: the policy's numbers, no remaining count. */
function approximateState(policy: ResolvedPolicy): LimitState {
  return { policy: policy.name, limit: policy.limit, window: policy.window, allowed: true, remaining: 0, reset: null, retryAfter: 0, countedAt: null, approximate: true };
}

function markApproximate(partition: Partition, state: LimitState): LimitState {
  const approximate = partition.checks.some((check) => check.request.policy === state.policy && check.policy.approximate);
  return approximate ? { ...state, approximate: true } : state;
}

/**
 * Keeps what the object granted beyond this request for the next ones, or its refusal. When
 * another policy refused the request, the grants are refunded instead, so only refusals are kept.
 */
function rememberLeases(answered: PartitionResult[], admitted: boolean): void {
  for (const { partition, decision } of answered) {
    for (const check of partition.checks) {
      if (!check.policy.approximate) continue;
      const state = decision?.states.find((candidate) => candidate.policy === check.request.policy);
      if (!state || (admitted === false && state.allowed)) {
        if (check.request.upTo !== undefined) abandonLeaseRequest(check.policy, check.key);
        continue;
      }
      storeLease(check.policy, check.key, check.request.cost, state, check.request.upTo !== undefined);
    }
  }
}

/** Per-policy decisions for /metrics; a refused failure counter (countOnly) is a lock-out. */
function recordDecisions(policies: Record<PolicyName, ResolvedPolicy>, states: readonly LimitState[]): void {
  for (const state of states) {
    recordMetric("edge_auth_rate_limit_decisions_total", { policy: state.policy, decision: state.allowed ? "allowed" : "limited" });
    if (!state.allowed && policies[state.policy as PolicyName]?.countOnly) recordMetric("edge_auth_lockouts_total", { policy: state.policy });
  }
}

async function settlePartition(c: Context<AppEnv>, result: PartitionResult, status: number): Promise<LimitState[]> {
  const pending = result.partition.checks.filter(({ policy }) => policy.countOnly && !policy.countOnly.includes(status));
  if (pending.length === 0) return [];
  const success = status >= 200 && status < 300;
  const toReset = pending.filter(({ policy }) => success && policy.resetOnSuccess);
  const toRefund = pending.filter((entry) => !toReset.includes(entry));
  const countedAt = (policy: string) => result.decision?.states.find((state) => state.policy === policy)?.countedAt ?? null;
  try {
    const [reset, refunded] = await Promise.all([
      toReset.length > 0 ? withTimeout(Promise.resolve(result.stub.reset(toReset.map((entry) => entry.request))), LIMITER_TIMEOUT_MS) : [],
      toRefund.length > 0
        ? withTimeout(
            Promise.resolve(
              result.stub.refund(
                toRefund.flatMap(({ request }) => {
                  const at = countedAt(request.policy);
                  return at === null ? [] : [{ ...request, countedAt: at }];
                }),
              ),
            ),
            LIMITER_TIMEOUT_MS,
          )
        : [],
    ]);
    return [...(reset as LimitState[]), ...(refunded as LimitState[])];
  } catch (error) {
    // The unit stays counted: on a limiter outage a failure counter errs towards locking.
    c.get("logger")?.warn("rate limiter settle failed", describeError(error));
    return [];
  }
}
