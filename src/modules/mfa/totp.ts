/**
 * TOTP (RFC 6238) on top of @oslojs/otp's HOTP: SHA-1, 6 digits, 30-second steps, which is what
 * every authenticator app reads from an otpauth:// URI. The clock is a parameter so tests can pin
 * it; the replay rule (a step is usable once) is enforced by the caller's conditional update.
 */
import { createTOTPKeyURI, generateHOTP, verifyHOTP } from "@oslojs/otp";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** RFC 4226 §4 asks for at least 128 bits and recommends 160: the length of a SHA-1 block key. */
export const TOTP_SECRET_BYTES = 20;
/** Steps accepted either side of the current one (clock drift, a code typed at the boundary). */
export const TOTP_DRIFT_STEPS = 1;

/** A fresh 160-bit secret. */
export function newTotpSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES));
}

/** The 30-second step a moment falls in. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for a moment (`digits` 6 by default; RFC 6238's vectors use 8). */
export function totpCode(secret: Uint8Array, nowMs: number, digits = TOTP_DIGITS): string {
  return generateHOTP(secret, BigInt(totpStep(nowMs)), digits);
}

/**
 * The step `code` is valid for, among the current step and TOTP_DRIFT_STEPS either side, that is
 * newer than `lastUsedStep`; null when there is none. Every candidate is compared (constant time
 * each) so the answer's timing does not say which step matched.
 */
export function matchTotp(secret: Uint8Array, code: string, nowMs: number, lastUsedStep: number | null): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const current = totpStep(nowMs);
  let matched: number | null = null;
  for (let step = current - TOTP_DRIFT_STEPS; step <= current + TOTP_DRIFT_STEPS; step++) {
    const valid = verifyHOTP(secret, BigInt(step), TOTP_DIGITS, code);
    if (valid && (lastUsedStep === null || step > lastUsedStep) && matched === null) matched = step;
  }
  return matched;
}

/** The otpauth:// URI an authenticator app imports (as a QR code or by hand). */
export function totpUri(issuer: string, accountName: string, secret: Uint8Array): string {
  return createTOTPKeyURI(issuer, accountName, secret, TOTP_PERIOD_SECONDS, TOTP_DIGITS);
}
