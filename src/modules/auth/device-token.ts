/**
 * Device tokens (OWASP's "device cookie" defence against lock-out abuse): a successful login
 * returns one, bound to the account's email; a later login that sends it back is counted against
 * that device's own failure counter instead of the account's shared one. An attacker without the
 * password therefore cannot lock the owner out of a client that has signed in before.
 *
 * Format: `dt1.<issued at, unix s>.<128-bit nonce>.<HMAC-SHA256>`, the MAC over the email, the
 * time and the nonce under RATE_LIMIT_SECRET. Stateless: nothing is stored; a token is only ever
 * minted after a correct password, so holding one proves that someone signed in from it.
 */
import type { Config } from "../../config";
import { rateLimitSecret } from "../../lib/rate-limit/secret";
import { base64Url, timingSafeEqual } from "../../lib/tokens";

const CONTEXT = "device-token:v1";
const PREFIX = "dt1";
/** How long a device stays recognised after the login that issued its token. */
export const DEVICE_TOKEN_MAX_AGE_SECONDS = 180 * 86_400;
const FORMAT = /^dt1\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(`${CONTEXT}:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

async function mac(config: Config, email: string, issuedAt: string, nonce: string): Promise<string> {
  const key = await hmacKey(await rateLimitSecret(config));
  return base64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${CONTEXT}\n${email}\n${issuedAt}\n${nonce}`))));
}

/** A new device token for the (normalized) email that just signed in. */
export async function issueDeviceToken(config: Config, email: string, now: number): Promise<string> {
  const issuedAt = String(Math.floor(now / 1000));
  const nonce = base64Url(crypto.getRandomValues(new Uint8Array(16)));
  return `${PREFIX}.${issuedAt}.${nonce}.${await mac(config, email, issuedAt, nonce)}`;
}

/**
 * The device's identity (its nonce) when `token` is a genuine, unexpired device token for this
 * normalized email; undefined otherwise (another account's token, a forged or expired one).
 */
export async function verifyDeviceToken(config: Config, email: string, token: unknown, now: number): Promise<string | undefined> {
  if (typeof token !== "string") return undefined;
  const match = FORMAT.exec(token);
  if (!match) return undefined;
  const [, issuedAt, nonce, presented] = match as unknown as [string, string, string, string];
  const age = now / 1000 - Number(issuedAt);
  if (age < -60 || age > DEVICE_TOKEN_MAX_AGE_SECONDS) return undefined;
  return timingSafeEqual(presented, await mac(config, email, issuedAt, nonce)) ? nonce : undefined;
}
