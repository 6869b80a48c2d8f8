import type { Bindings } from "../bindings";
import type { Config } from "../config";
import { applyFaults, type FaultPlan, type FaultTarget } from "../lib/faults";
import { recordMetric } from "../lib/metrics/recorder";

/**
 * Wraps the storage bindings so every call is timed and counted (dependency latency and errors in
 * /metrics) and, in chaos mode, may fail or slow down like the real dependency. Handlers and
 * services keep using `c.env.DB`, `c.env.FILES`, ... unchanged.
 *
 * The bindings covered are listed here by name (not detected by shape: an RPC stub answers every
 * property name). A module adding a D1 database, bucket, Durable Object namespace or queue adds
 * its binding to this table.
 */
const INSTRUMENTED: Record<string, { kind: "d1" | "r2" | "do" | "queue"; dependency: string }> = {
  DB: { kind: "d1", dependency: "d1" },
  FILES: { kind: "r2", dependency: "r2" },
  RATE_LIMITER: { kind: "do", dependency: "durable_object:rate_limiter" },
  QUOTA: { kind: "do", dependency: "durable_object:quota" },
  AI_DOCUMENTS_QUEUE: { kind: "queue", dependency: "queue:ai_documents" },
};

interface Probe {
  dependency: string;
  target: FaultTarget;
  faults: FaultPlan;
  delayMs: number;
  measure: boolean;
}

/** Runs one dependency call: faults first (chaos mode), then the call, timed; errors counted. */
async function observe<T>(probe: Probe, operation: string, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let failed = false;
  try {
    if (probe.faults.length > 0) await applyFaults(probe.faults, probe.target, probe.delayMs);
    return await call();
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    if (probe.measure) {
      const labels = { dependency: probe.dependency, operation };
      recordMetric("edge_auth_dependency_duration_seconds", labels, (Date.now() - started) / 1000);
      if (failed) recordMetric("edge_auth_dependency_errors_total", labels);
    }
  }
}

const RAW_STATEMENT = Symbol("raw D1 statement");

type Statement = D1PreparedStatement & { [RAW_STATEMENT]?: D1PreparedStatement };

function statement(raw: D1PreparedStatement, probe: Probe): D1PreparedStatement {
  const wrapped = {
    [RAW_STATEMENT]: raw,
    bind: (...values: unknown[]) => statement(raw.bind(...values), probe),
    first: (column?: string) => observe(probe, "first", () => (column === undefined ? raw.first() : raw.first(column))),
    all: () => observe(probe, "all", () => raw.all()),
    run: () => observe(probe, "run", () => raw.run()),
    raw: (options?: { columnNames?: boolean }) => observe(probe, "raw", () => raw.raw(options as { columnNames: true })),
  };
  return wrapped as unknown as D1PreparedStatement;
}

function database(db: D1Database, probe: Probe): D1Database {
  return {
    prepare: (query: string) => statement(db.prepare(query), probe),
    // D1 accepts only its own statement objects in a batch: unwrap ours.
    batch: (statements: Statement[]) => observe(probe, "batch", () => db.batch(statements.map((item) => item[RAW_STATEMENT] ?? item))),
    exec: (query: string) => observe(probe, "exec", () => db.exec(query)),
    dump: () => db.dump(),
    withSession: (constraint?: string) => db.withSession(constraint),
  } as unknown as D1Database;
}

const R2_CALLS = new Set(["get", "put", "head", "delete", "list"]);

function bucket(raw: R2Bucket, probe: Probe): R2Bucket {
  return new Proxy(raw, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== "function") return value;
      const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      if (typeof property !== "string" || !R2_CALLS.has(property)) return method;
      return (...args: unknown[]) => observe(probe, property, () => method(...args));
    },
  });
}

/** A Durable Object stub whose RPC methods are timed; plain properties (`id`, `name`) pass through. */
function stub<T extends object>(raw: T, probe: Probe): T {
  return new Proxy(raw, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      // `then` must stay undefined or awaiting the stub itself would call an RPC method.
      if (typeof property === "symbol" || property === "then" || typeof value !== "function") return value;
      // Called through the stub, not `value.apply(...)`: on an RPC stub `apply` is itself a remote method name.
      return (...args: unknown[]) => observe(probe, property, async () => (target as Record<string, (...a: unknown[]) => unknown>)[property]!(...args));
    },
  });
}

function namespace(raw: DurableObjectNamespace, probe: Probe): DurableObjectNamespace {
  return {
    idFromName: (name: string) => raw.idFromName(name),
    idFromString: (id: string) => raw.idFromString(id),
    newUniqueId: (options?: DurableObjectNamespaceNewUniqueIdOptions) => raw.newUniqueId(options),
    jurisdiction: (jurisdiction: DurableObjectJurisdiction) => namespace(raw.jurisdiction(jurisdiction), probe),
    get: (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) => stub(raw.get(id, options), probe),
    getByName: (name: string, options?: DurableObjectNamespaceGetDurableObjectOptions) => stub(raw.getByName(name, options), probe),
  } as unknown as DurableObjectNamespace;
}

function queue(raw: Queue, probe: Probe): Queue {
  return {
    send: (...args: Parameters<Queue["send"]>) => observe(probe, "send", () => raw.send(...args)),
    sendBatch: (...args: Parameters<Queue["sendBatch"]>) => observe(probe, "sendBatch", () => raw.sendBatch(...args)),
  } as unknown as Queue;
}

const cache = new WeakMap<object, Bindings>();

/**
 * The bindings with the storage ones wrapped, once per bindings object (once per isolate in
 * production). Returns `env` itself when there is nothing to measure and no fault to inject.
 */
export function instrumentBindings(env: Bindings, config: Pick<Config, "METRICS_ENABLED" | "FAULTS" | "FAULTS_DELAY_MS">): Bindings {
  if (!config.METRICS_ENABLED && config.FAULTS.length === 0) return env;
  const cached = cache.get(env);
  if (cached) return cached;
  const wrapped: Bindings = { ...env };
  for (const [name, { kind, dependency }] of Object.entries(INSTRUMENTED)) {
    const binding = env[name];
    if (!binding) continue;
    const probe: Probe = { dependency, target: kind, faults: config.FAULTS, delayMs: config.FAULTS_DELAY_MS, measure: config.METRICS_ENABLED };
    if (kind === "d1") wrapped[name] = database(binding as D1Database, probe);
    else if (kind === "r2") wrapped[name] = bucket(binding as R2Bucket, probe);
    else if (kind === "do") wrapped[name] = namespace(binding as DurableObjectNamespace, probe);
    else wrapped[name] = queue(binding as Queue, probe);
  }
  cache.set(env, wrapped);
  return wrapped;
}
