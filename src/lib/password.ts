/**
 * Password hashing: argon2id (RFC 9106), computed by the reference C code in WebAssembly
 * (src/lib/argon2id.ts), stored as a PHC string.
 *
 * Format written and accepted (and nothing else):
 * `$argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<hash>`, salt and hash in standard
 * base64 without padding, as argon2's reference implementation, argon2-cffi and libsodium write it,
 * so hashes migrated from those libraries verify here.
 */
import { argon2id } from "./argon2id";

export interface Argon2Params {
  /** Memory cost in KiB (argon2's `m`). */
  memoryKib: number;
  /** Passes over memory (argon2's `t`). */
  iterations: number;
  /** Lanes (argon2's `p`). The WebAssembly build has one thread, so lanes add work, not speed. */
  parallelism: number;
}

export interface VerifyResult {
  ok: boolean;
  /** True only when `ok` and the stored hash is weaker than the current parameters. */
  needsRehash: boolean;
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const ARGON2_VERSION = 0x13;

/**
 * What one Workers isolate can compute: 128 MB of memory in all, so at most 64 MiB for the hash,
 * and a CPU budget of about 6.7 times OWASP's m=19456,t=2 (m × t ≤ 262,144 KiB-passes, ≈ 2.5 s).
 * The configuration (src/config.ts) and stored hashes are bounded by the same numbers.
 */
export const ARGON2_LIMITS = { memoryKib: 65_536, iterations: 16, parallelism: 4, memoryTimesIterations: 262_144 } as const;

/**
 * Bounds for parameters read from storage. A stored hash is data, not code: anything outside
 * these is treated as corrupt rather than computed (it would exhaust the isolate).
 */
const STORED_LIMITS = {
  memoryKib: ARGON2_LIMITS.memoryKib,
  iterations: ARGON2_LIMITS.iterations,
  parallelism: ARGON2_LIMITS.parallelism,
  saltBytes: { min: 8, max: 64 },
  hashBytes: { min: 16, max: 64 },
} as const;

const PHC_PATTERN =
  /^\$argon2id\$v=19\$m=([1-9]\d{0,9}),t=([1-9]\d{0,9}),p=([1-9]\d{0,9})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Hashes exactly what was typed: UTF-8 bytes, no trimming, no Unicode normalization. */
function passwordBytes(password: string): Uint8Array {
  return new TextEncoder().encode(password);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, "");
}

/** Strict decoding: only the canonical unpadded encoding of some byte string is accepted. */
function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  // atob ignores non-zero trailing bits, so two strings could decode to the same salt.
  return toBase64(bytes) === text ? bytes : null;
}

function assertParams(params: Argon2Params): void {
  const { memoryKib, iterations, parallelism } = params;
  const valid =
    Number.isSafeInteger(memoryKib) &&
    Number.isSafeInteger(iterations) &&
    Number.isSafeInteger(parallelism) &&
    iterations >= 1 &&
    parallelism >= 1 &&
    parallelism <= 0xff_ffff &&
    memoryKib >= 8 * parallelism;
  if (!valid) {
    throw new RangeError(`invalid argon2id parameters m=${memoryKib}, t=${iterations}, p=${parallelism}`);
  }
}

/**
 * Runs in one piece (tens of milliseconds at the defaults, docs/passwords.md). Kept async so
 * callers do not depend on where the work happens.
 */
async function derive(password: string, salt: Uint8Array, params: Argon2Params, length: number): Promise<Uint8Array> {
  return argon2id(passwordBytes(password), salt, params, length);
}

function formatPhc(params: Argon2Params, salt: Uint8Array, hash: Uint8Array): string {
  return (
    `$argon2id$v=19$m=${params.memoryKib},t=${params.iterations},p=${params.parallelism}` +
    `$${toBase64(salt)}$${toBase64(hash)}`
  );
}

interface ParsedPhc {
  params: Argon2Params;
  salt: Uint8Array;
  hash: Uint8Array;
}

/** Parses a stored PHC string; `null` for anything this module would not have written. */
function parsePhc(phc: unknown): ParsedPhc | null {
  if (typeof phc !== "string" || phc.length > 512) return null;
  const match = PHC_PATTERN.exec(phc);
  if (!match) return null;
  const [, m, t, p, saltText, hashText] = match as unknown as [string, string, string, string, string, string];
  const params: Argon2Params = { memoryKib: Number(m), iterations: Number(t), parallelism: Number(p) };
  if (
    params.memoryKib > STORED_LIMITS.memoryKib ||
    params.iterations > STORED_LIMITS.iterations ||
    params.parallelism > STORED_LIMITS.parallelism ||
    params.memoryKib * params.iterations > ARGON2_LIMITS.memoryTimesIterations ||
    params.memoryKib < 8 * params.parallelism
  ) {
    return null;
  }
  const salt = fromBase64(saltText);
  const hash = fromBase64(hashText);
  if (!salt || salt.length < STORED_LIMITS.saltBytes.min || salt.length > STORED_LIMITS.saltBytes.max) return null;
  if (!hash || hash.length < STORED_LIMITS.hashBytes.min || hash.length > STORED_LIMITS.hashBytes.max) return null;
  return { params, salt, hash };
}

/** Compares two equal-length byte strings without an early exit on the first difference. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}

function isWeaker(stored: ParsedPhc, current: Argon2Params): boolean {
  return (
    stored.params.memoryKib < current.memoryKib ||
    stored.params.iterations < current.iterations ||
    stored.params.parallelism < current.parallelism ||
    stored.salt.length < SALT_BYTES ||
    stored.hash.length < HASH_BYTES
  );
}

/**
 * Hashes a password with argon2id and a fresh 16-byte random salt into a PHC string.
 * Throws a `RangeError` on impossible parameters (a configuration bug, not user input).
 *
 * @example
 * const phc = await hashPassword("correct horse", { memoryKib: 19456, iterations: 2, parallelism: 1 });
 * // "$argon2id$v=19$m=19456,t=2,p=1$<22 base64 chars>$<43 base64 chars>"
 */
export async function hashPassword(password: string, params: Argon2Params): Promise<string> {
  assertParams(params);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, params, HASH_BYTES);
  return formatPhc(params, salt, hash);
}

/**
 * Checks a password against a stored PHC string, recomputing with the stored parameters.
 * Never throws on bad stored data: a malformed or unsupported string gives `{ ok: false }`.
 * `needsRehash` tells the caller to store `hashPassword(password, current)` after a good login,
 * because the stored m, t or p (or salt or hash length) is below the current setting.
 *
 * @example
 * const { ok, needsRehash } = await verifyPassword(input, user.passwordHash, config.argon2);
 */
export async function verifyPassword(password: string, phc: string, current: Argon2Params): Promise<VerifyResult> {
  const stored = parsePhc(phc);
  if (!stored) return { ok: false, needsRehash: false };
  let computed: Uint8Array;
  try {
    computed = await derive(password, stored.salt, stored.params, stored.hash.length);
  } catch {
    return { ok: false, needsRehash: false };
  }
  const ok = constantTimeEqual(computed, stored.hash);
  return { ok, needsRehash: ok && isWeaker(stored, current) };
}

/** One dummy PHC string per parameter set, per isolate. */
const dummies = new Map<string, string>();

function dummyPhc(current: Argon2Params): string {
  const key = `${current.memoryKib},${current.iterations},${current.parallelism}`;
  let phc = dummies.get(key);
  if (!phc) {
    // A random "hash" costs nothing to make, yet verifying against it runs one full argon2id,
    // so even the first unknown email of an isolate costs the same as a known one.
    const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
    const hash = crypto.getRandomValues(new Uint8Array(HASH_BYTES));
    phc = formatPhc(current, salt, hash);
    dummies.set(key, phc);
  }
  return phc;
}

/**
 * Burns the CPU of one real verification at the current parameters and always fails. Call it
 * for unknown emails so that login, forgot and resend take as long as for existing accounts.
 *
 * @example
 * const result = user
 *   ? await verifyPassword(input, user.passwordHash, params)
 *   : await verifyAgainstDummy(input, params);
 */
export async function verifyAgainstDummy(password: string, current: Argon2Params): Promise<VerifyResult> {
  assertParams(current);
  await verifyPassword(password, dummyPhc(current), current);
  return { ok: false, needsRehash: false };
}
