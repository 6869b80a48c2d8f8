import type { Bindings } from "../../env";
import type { ReadinessCheck } from "./health.schemas";

const CHECK_TIMEOUT_MS = 2_000;

async function timed(name: string, probe: () => Promise<unknown>): Promise<ReadinessCheck> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name, ok: true, latency_ms: Date.now() - started };
  } catch (error) {
    return { name, ok: false, latency_ms: Date.now() - started, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes every dependency in parallel: D1 with `select 1`, R2 with a HEAD of a key that need not
 * exist, and each Durable Object namespace with a ping RPC to a fixed object.
 */
export async function runReadinessChecks(env: Bindings): Promise<ReadinessCheck[]> {
  return Promise.all([
    timed("d1", () => env.DB.prepare("select 1 as ok").first()),
    timed("r2", () => env.FILES.head("health/probe")),
    timed("durable_object:rate_limiter", () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("health")).ping()),
  ]);
}
