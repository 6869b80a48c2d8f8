import { env } from "cloudflare:test";
import { createDb, type Database } from "../../src/db/client";
import type { Config } from "../../src/config";
import { parseConfig } from "../../src/env";
import type { AuthDeps } from "../../src/modules/auth/auth.context";

/** The configuration the worker under test runs with (the vitest bindings). */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const result = parseConfig({ ...(env as unknown as Record<string, unknown>), ...overrides });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

/**
 * A database whose next `batch` first runs `interleave`: forces "another request lands between
 * this service's reads (and its password hashing) and its write", deterministically.
 */
export function interleavedDb(interleave: () => Promise<void>): Database {
  const db = createDb(env.DB);
  let pending: (() => Promise<void>) | null = interleave;
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property === "batch") {
        return async (statements: Parameters<Database["batch"]>[0]) => {
          const run = pending;
          pending = null;
          if (run) await run();
          return target.batch(statements);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/** A database whose next `batch` fails like a D1 outage, before anything is written. */
export function failingBatchDb(): Database {
  return interleavedDb(() => Promise.reject(new Error("D1_ERROR: Network connection lost.")));
}

/** Service dependencies as a request would build them, over `db`. */
export function serviceDeps(db: Database = createDb(env.DB), config: Config = testConfig()): AuthDeps {
  return {
    db,
    config,
    mail: () => {},
    actor: { userId: null, ip: "203.0.113.250", userAgent: "race-test", requestId: crypto.randomUUID() },
    client: { userAgent: "race-test", country: null },
    now: Date.now(),
    defer: (task) => void task(),
  };
}
