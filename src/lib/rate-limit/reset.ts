import type { Context } from "hono";
import type { AppEnv } from "../../bindings";
import { partitionChecks, type RateLimitCheck } from "./enforce";
import { resolvePolicies } from "./policies";
import { rateLimitSecret } from "./secret";

/**
 * Forgets what these policies counted for these keys (an administrator's unlock, a successful
 * password reset clearing the account's lock-out). Throws when the limiter cannot be reached, so
 * the caller never reports an unlock that did not happen.
 *
 * @example
 * await resetRateLimits(c, [{ policy: "login_account", key: email }]);
 */
export async function resetRateLimits(c: Context<AppEnv>, checks: readonly RateLimitCheck[]): Promise<void> {
  const config = c.get("config");
  const partitions = await partitionChecks(resolvePolicies(config), checks, await rateLimitSecret(config));
  const namespace = c.env.RATE_LIMITER;
  await Promise.all(
    partitions.map((partition) => namespace.get(namespace.idFromName(partition.name)).reset(partition.checks.map((check) => check.request))),
  );
}
