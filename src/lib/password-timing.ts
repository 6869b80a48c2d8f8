import type { Argon2Params } from "./password";

const PHC_PARAMS = /^\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})\$/;

/**
 * Argon2's cost is close to proportional to memory × passes × lanes. When a stored hash was made
 * with cheaper parameters than the current ones, verifying it is faster than the dummy hash an
 * unknown email costs: a timing oracle for "this account exists and has an old hash". This returns
 * the parameters of one extra dummy verification that tops the work up to (within one pass of)
 * the current cost, or null when nothing is missing. Independent of the hashing backend: it reads
 * only the PHC string's parameters.
 *
 * @example
 * timingPadding("$argon2id$v=19$m=19456,t=1,p=1$…", { memoryKib: 19456, iterations: 2, parallelism: 1 })
 * // { memoryKib: 19456, iterations: 1, parallelism: 1 }
 */
export function timingPadding(storedPhc: string, current: Argon2Params): Argon2Params | null {
  const match = PHC_PARAMS.exec(storedPhc);
  const stored = match ? Number(match[1]) * Number(match[2]) * Number(match[3]) : 0;
  const perPass = current.memoryKib * current.parallelism;
  const missing = perPass * current.iterations - stored;
  const iterations = Math.round(missing / perPass);
  return iterations >= 1 ? { ...current, iterations } : null;
}
