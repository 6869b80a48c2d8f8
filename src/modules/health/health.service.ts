import type { Bindings } from "../../bindings";
import type { ReadinessCheck } from "./health.schemas";

const CHECK_TIMEOUT_MS = 2_000;

class CheckTimeout extends Error {}

/** The check's result; the raw error goes to the log only (this endpoint is public). */
export interface ProbedCheck {
  check: ReadinessCheck;
  cause?: string;
}

async function timed(name: string, probe: () => Promise<unknown>): Promise<ProbedCheck> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new CheckTimeout(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { check: { name, ok: true, latency_ms: Date.now() - started } };
  } catch (error) {
    const latency_ms = Date.now() - started;
    const error_text = error instanceof CheckTimeout ? error.message : "unavailable";
    return { check: { name, ok: false, latency_ms, error: error_text }, cause: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes every dependency in parallel: D1 with `select 1`, R2 with a HEAD of a key that need not
 * exist, and each Durable Object namespace with a ping RPC to a fixed object.
 */
export async function runReadinessChecks(env: Bindings): Promise<ProbedCheck[]> {
  return Promise.all([
    timed("d1", () => env.DB.prepare("select 1 as ok").first()),
    timed("r2", () => env.FILES.head("health/probe")),
    timed("durable_object:rate_limiter", () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("health")).ping()),
    timed("durable_object:quota", () => env.QUOTA.get(env.QUOTA.idFromName("health")).ping()),
  ]);
}

/**
 * How long one probe result answers every readiness request of an isolate. The endpoint is public
 * and outside /api (no rate limit): without this, each request would cost four storage calls.
 */
export const READINESS_CACHE_MS = 5_000;

const cache = new WeakMap<object, { at: number; checks: ProbedCheck[] }>();

/**
 * `runReadinessChecks`, its result shared by the requests of one isolate for READINESS_CACHE_MS.
 * Only a settled result is shared: a request awaiting another request's storage calls can stall
 * in workerd (measured: 11 socket errors in 10 s at 64 connections when the pending probe was
 * shared), so requests that arrive while a probe runs start their own.
 */
export async function cachedReadinessChecks(env: Bindings, now = Date.now()): Promise<ProbedCheck[]> {
  const cached = cache.get(env);
  if (cached && now - cached.at < READINESS_CACHE_MS) return cached.checks;
  const checks = await runReadinessChecks(env);
  cache.set(env, { at: now, checks });
  return checks;
}
