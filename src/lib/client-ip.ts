/**
 * The client's address as Cloudflare's edge reports it.
 *
 * Only `CF-Connecting-IP` is read: the edge sets it and overwrites any value the client sent.
 * `X-Forwarded-For`, `X-Real-IP` and `True-Client-IP` are client-controlled on this path and are
 * never trusted, so rotating them cannot move a caller into a fresh rate-limit bucket.
 */

/** What every request without a usable `CF-Connecting-IP` is keyed by: they share one bucket. */
export const UNKNOWN_CLIENT_IP = "unknown";

/** Digits, hex letters, dots and colons (IPv4, IPv6, IPv4-mapped IPv6); at most 45 characters. */
const IP_SHAPE = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The client IP of a request, or `UNKNOWN_CLIENT_IP` when the header is missing or malformed
 * (only possible outside Cloudflare's edge: tests and `wrangler dev`).
 *
 * @example
 * clientIp(c.req.raw) // "203.0.113.7"
 */
export function clientIp(request: Request): string {
  const value = request.headers.get("CF-Connecting-IP")?.trim();
  if (!value || !IP_SHAPE.test(value)) return UNKNOWN_CLIENT_IP;
  return value.toLowerCase();
}
