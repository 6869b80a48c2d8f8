import type { Config } from "../../config";
import { ProblemError } from "../../lib/problem";
import { randomToken, toHex } from "../../lib/tokens";

/** What every API key starts with, so secret scanners (and people) recognise a leaked one. */
export const API_KEY_PREFIX = "eak_";
/** 32 random bytes = 256 bits, base64url: 43 characters after the prefix. */
const API_KEY_BYTES = 32;
/** `eak_` + 43 base64url characters: anything else is not one of ours, without a lookup. */
const API_KEY_SHAPE = /^eak_[A-Za-z0-9_-]{43}$/;
/** Characters of a key kept in clear for lists (`eak_` + 8): enough to tell keys apart, useless to an attacker. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

/** A new API key: the secret to show once, and the prefix kept for display. */
export function newApiKeySecret(): { secret: string; prefix: string } {
  const secret = randomToken(API_KEY_BYTES, API_KEY_PREFIX);
  return { secret, prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/** Whether `token` has the shape of an API key (prefix and length); says nothing about validity. */
export function looksLikeApiKey(token: string): boolean {
  return API_KEY_SHAPE.test(token);
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(secret, key);
  }
  return key;
}

/**
 * The stored form of an API key: hex HMAC-SHA-256 keyed with API_KEY_SECRET. A key carries 256
 * random bits, so a fast hash cannot be brute-forced; the secret additionally makes a leaked
 * database useless for checking guesses. One HMAC is microseconds, where argon2 would be 0.3 s.
 *
 * @throws ProblemError `misconfigured` when API_KEY_SECRET is not set (development without `npm start`).
 */
export async function hashApiKey(config: Config, secret: string): Promise<string> {
  if (!config.API_KEY_SECRET) {
    throw new ProblemError("misconfigured", { detail: "API keys need API_KEY_SECRET; `npm start` writes one into .dev.vars." });
  }
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(config.API_KEY_SECRET), new TextEncoder().encode(secret));
  return toHex(mac);
}
