/**
 * Recovery codes: 10 single-use codes shown once at enrollment. Each has 10 characters from a
 * 32-letter alphabet without look-alikes (50 random bits), so a fast hash (SHA-256) is enough to
 * store them: there is nothing to brute-force offline in a reasonable time, and verification
 * stays cheap on the login path. Input is normalized (case, spaces, dashes) before hashing.
 */
import { sha256Hex } from "../../lib/tokens";

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"; // 31 symbols after removing i, l, o, 0, 1
const CODE_LENGTH = 10;

/** One code, shown as `xxxxx-xxxxx`. Rejection sampling keeps the symbols uniform. */
function newCode(): string {
  let code = "";
  while (code.length < CODE_LENGTH) {
    const [byte] = crypto.getRandomValues(new Uint8Array(1));
    // 248 = 8 × 31: bytes at or above it would favour the first symbols.
    if (byte! < 248) code += ALPHABET[byte! % ALPHABET.length];
  }
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** A fresh set of codes. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
}

/** What the user typed, reduced to the stored form: lower case, no spaces or dashes. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, "");
}

/** The stored hash of a code (as shown or as typed). */
export function hashRecoveryCode(code: string): Promise<string> {
  return sha256Hex(`recovery:${normalizeRecoveryCode(code)}`);
}
