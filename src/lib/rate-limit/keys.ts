import type { KeyKind } from "./policies";

/**
 * Partition keys: what a bucket is named by. Raw emails and IPs never leave this module: the
 * Durable Object is addressed by a SHA-256 digest, and nothing it stores contains the raw key.
 */

/** Versioned so a change of the derivation starts fresh buckets instead of colliding with old ones. */
const PARTITION_SALT = "edge-auth-api/rate-limit/v1";

const encoder = new TextEncoder();

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The hex SHA-256 of `salt \0 namespace \0 kind \0 key`; the separators keep `("a:b","c")` and
 * `("a","b:c")` apart.
 *
 * @example
 * await partitionName("ip", "203.0.113.7") // "5d41…" (64 hex characters)
 */
export async function partitionName(kind: KeyKind | string, key: string, namespace = "rate-limit"): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${PARTITION_SALT}\0${namespace}\0${kind}\0${key}`));
  return toHex(digest);
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(secret, key);
  }
  return key;
}

/**
 * Like `partitionName`, but an HMAC under a secret: used for email keys, so that nobody without
 * the secret can tell which shard object an address lands in (and aim a flood at one shard), or
 * which bucket inside it.
 */
export async function keyedPartitionName(secret: string, kind: KeyKind | string, key: string, namespace = "rate-limit"): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${PARTITION_SALT}\0${namespace}\0${kind}\0${key}`));
  return toHex(mac);
}

/**
 * Email-keyed buckets live in a fixed set of shared objects instead of one object per address.
 * The first request for a never-seen address would otherwise create a Durable Object, and that
 * cold start (hundreds of milliseconds locally) would tell an attacker that nobody had used the
 * address: a timing oracle for account enumeration. Shards are few enough to stay warm.
 */
export const EMAIL_SHARDS = 32;

/** The object name of shard `index` (0 ≤ index < EMAIL_SHARDS). */
export function emailShardName(index: number): Promise<string> {
  return partitionName("email-shard", String(index));
}

/** Which shard a (keyed) hashed email key belongs to. */
export function emailShardOf(hashedKey: string): number {
  return Number.parseInt(hashedKey.slice(0, 8), 16) % EMAIL_SHARDS;
}

/** Expands an IPv6 text form to its eight 16-bit groups; undefined when it is not IPv6. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two groups.
  const ipv4Tail = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail.slice(2).map(Number) as [number, number, number, number];
    if ([a, b, c, d].some((part) => part > 255)) return undefined;
    text = `${ipv4Tail[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0] ?? "");
  const tail = halves.length === 2 ? parse(halves[1] ?? "") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return groups.map((group) => Number.parseInt(group, 16));
}

/**
 * The network an address belongs to, for limits on whole networks: an IPv6 /48 (one site's
 * allocation, 65,536 /64s); undefined for IPv4, whose single addresses are already scarce.
 *
 * @example
 * networkBucket("2001:db8:1:2::1") // "2001:db8:1::/48"
 */
export function networkBucket(ip: string): string | undefined {
  if (!ip.includes(":")) return undefined;
  const groups = ipv6Groups(ip);
  if (!groups || ipBucket(ip).includes(".")) return undefined;
  return `${groups.slice(0, 3).map((group) => group.toString(16)).join(":")}::/48`;
}

/**
 * The rate-limit identity of a client address. IPv4 addresses count one by one; an IPv6 client
 * usually holds a whole /64, so IPv6 addresses count by their /64 prefix (otherwise one host could
 * rotate through 2^64 fresh buckets). IPv4-mapped IPv6 counts as its IPv4 address.
 *
 * @example
 * ipBucket("2001:db8:1:2:aaaa::1") // "2001:db8:1:2::/64"
 */
export function ipBucket(ip: string): string {
  if (!ip.includes(":")) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  const isMappedIpv4 = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (isMappedIpv4) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`;
}
