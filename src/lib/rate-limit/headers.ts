/**
 * The RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers-10: each is a
 * Structured Fields List of Items whose value is the policy name (an sf-string) and whose
 * parameters are `q` (quota) and `w` (window) or `r` (remaining) and `t` (seconds to reset).
 *
 *     RateLimit-Policy: "login_ip";q=50;w=300, "login_account";q=5;w=900
 *     RateLimit: "login_ip";r=49;t=300, "login_account";r=4;t=900
 */

export interface PolicyHeaderState {
  policy: string;
  limit: number;
  window: number;
  remaining: number;
  /** Seconds until quota returns; omitted from the field when null (nothing is counted). */
  reset: number | null;
  /** An approximate policy: no exact remaining count exists, so the RateLimit field leaves it out. */
  approximate?: boolean;
}

/** An sf-string: policy names are `[a-z0-9_]`, but quote-escape anyway so the field stays valid. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/** Non-negative sf-integers only (at most 15 digits). */
function sfInteger(value: number): string {
  return String(Math.min(999_999_999_999_999, Math.max(0, Math.floor(value))));
}

/**
 * @example
 * rateLimitPolicyField([{ policy: "login", limit: 5, window: 900, remaining: 2, reset: 412 }])
 * // '"login";q=5;w=900'
 */
export function rateLimitPolicyField(states: readonly PolicyHeaderState[]): string {
  return states.map((state) => `${sfString(state.policy)};q=${sfInteger(state.limit)};w=${sfInteger(state.window)}`).join(", ");
}

/**
 * @example
 * rateLimitField([{ policy: "login", limit: 5, window: 900, remaining: 2, reset: 412 }])
 * // '"login";r=2;t=412'
 */
export function rateLimitField(states: readonly PolicyHeaderState[]): string {
  return states
    .map((state) => {
      const reset = state.reset === null ? "" : `;t=${sfInteger(state.reset)}`;
      return `${sfString(state.policy)};r=${sfInteger(state.remaining)}${reset}`;
    })
    .join(", ");
}

/**
 * Both fields for a set of admitted policy states; empty when there are none. Approximate
 * policies appear in RateLimit-Policy (their quota and window are true) but not in RateLimit,
 * whose remaining count they cannot state truthfully (a 429 names them with r=0, which is true).
 */
export function rateLimitHeaders(states: readonly PolicyHeaderState[]): Record<string, string> {
  if (states.length === 0) return {};
  const exact = states.filter((state) => !state.approximate);
  return { "RateLimit-Policy": rateLimitPolicyField(states), ...(exact.length > 0 ? { RateLimit: rateLimitField(exact) } : {}) };
}
