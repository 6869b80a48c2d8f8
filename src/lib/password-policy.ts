/**
 * The password policy (OWASP ASVS 5.0 §6.2, NIST SP 800-63B §3.1.1.2): a minimum length, a
 * generous maximum, no composition rules, and a refusal of common passwords and of the email.
 *
 * Two layers, because the minimum length is configuration (PASSWORD_MIN_LENGTH) that a route
 * schema cannot see at import time:
 * - `passwordField()` in the route schema: a non-empty string of at most 1024 UTF-8 bytes, so an
 *   oversized password is refused with a 422 before anything is hashed;
 * - `checkPassword()` / `assertPasswordAcceptable()` in the service, for every new password
 *   (register, reset, change), never for a login: an existing password is only verified.
 */
import { z } from "@hono/zod-openapi";
import commonPasswordsText from "../data/common-passwords.txt";
import { ProblemError, toValidationIssues } from "./problem";

/** Longest password accepted, in UTF-8 bytes: bounds the argon2 input and the request body. */
export const PASSWORD_MAX_BYTES = 1024;

export interface PasswordPolicyOptions {
  /** Minimum length in Unicode code points (PASSWORD_MIN_LENGTH, at least 8). */
  minLength: number;
  /** The account's email; the password may not be the same address. */
  email?: string | null;
}

/** Message constants, so callers and tests can recognise a refusal without parsing prose. */
export const PASSWORD_MESSAGES = {
  tooLong: `Password must be at most ${PASSWORD_MAX_BYTES} bytes long (UTF-8).`,
  malformed: "Password contains an unpaired surrogate (not valid Unicode text).",
  common: "Password is too common; choose one that is not on lists of frequently used passwords.",
  sameAsEmail: "Password must not be the email address.",
} as const;

/** Minimum-length message for a given minimum. */
export function tooShortMessage(minLength: number): string {
  return `Password must be at least ${minLength} characters long.`;
}

const encoder = new TextEncoder();

/** UTF-8 length in bytes, as the password is hashed. */
export function utf8ByteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

/** Characters as people count them (code points), so an emoji counts as one, not two. */
function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * A lone UTF-16 surrogate (possible through a JSON `\ud800` escape) has no UTF-8 form: it would be
 * hashed as U+FFFD, making several different inputs the same password.
 */
const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

/**
 * The passwords of a list in the form of `src/data/common-passwords.txt`: one a line, in order,
 * without blank lines and without `#` lines (the list's provenance and licence notice; the
 * generator refuses entries that start with `#`).
 *
 * @example
 * parsePasswordList("# a comment\n123456\npassword\n"); // ["123456", "password"]
 */
export function parsePasswordList(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line !== "" && !line.startsWith("#"));
}

let commonPasswords: Set<string> | undefined;

/** The list, parsed once per isolate on first use rather than at import (cold start). */
function commonPasswordSet(): Set<string> {
  commonPasswords ??= new Set(parsePasswordList(commonPasswordsText));
  return commonPasswords;
}

/**
 * Whether a password is on the shipped list of common passwords. The list is lower-case, and the
 * comparison is case-insensitive: "Password1" and "PASSWORD1" are guessed as early as "password1".
 * No other transformation: " password1" (with a space) is a different password.
 */
export function isCommonPassword(password: string): boolean {
  const set = commonPasswordSet();
  return set.has(password) || set.has(password.toLowerCase());
}

/** The email normalisation of accounts (trim, NFKC, lower-case), applied to both sides. */
function normalizeForEmailComparison(text: string): string {
  return text.trim().normalize("NFKC").toLowerCase();
}

/**
 * Checks a new password against the policy, exactly as typed (no trimming or case folding of the
 * password itself). Returns every refusal as a human-readable message; empty means acceptable.
 *
 * @example
 * checkPassword("password", { minLength: 8, email: "ada@example.com" });
 * // ["Password is too common; choose one that is not on lists of frequently used passwords."]
 */
export function checkPassword(password: string, options: PasswordPolicyOptions): string[] {
  const messages: string[] = [];
  if (UNPAIRED_SURROGATE.test(password)) messages.push(PASSWORD_MESSAGES.malformed);
  if (codePointLength(password) < options.minLength) messages.push(tooShortMessage(options.minLength));
  if (utf8ByteLength(password) > PASSWORD_MAX_BYTES) {
    messages.push(PASSWORD_MESSAGES.tooLong);
    // The remaining checks are about guessability; a 1 KiB+ string is not worth the work.
    return messages;
  }
  if (isCommonPassword(password)) messages.push(PASSWORD_MESSAGES.common);
  if (options.email && normalizeForEmailComparison(password) === normalizeForEmailComparison(options.email)) {
    messages.push(PASSWORD_MESSAGES.sameAsEmail);
  }
  return messages;
}

/**
 * `checkPassword` for services: throws a 422 `validation_failed` problem whose `errors` name the
 * field (`body.<field>`) once per refusal, the same shape as a schema validation failure.
 *
 * @example
 * assertPasswordAcceptable(input.new_password, { minLength: config.PASSWORD_MIN_LENGTH, email }, "new_password");
 */
export function assertPasswordAcceptable(password: string, options: PasswordPolicyOptions, field = "password"): void {
  const messages = checkPassword(password, options);
  if (messages.length === 0) return;
  throw new ProblemError("validation_failed", {
    detail: "The password does not meet the password policy; see `errors`.",
    errors: toValidationIssues(
      messages.map((message) => ({ path: [field], message })),
      "body",
    ),
  });
}

/**
 * The route-schema field for a password: non-empty and at most 1024 UTF-8 bytes. Use it for
 * login too (an existing password is verified, never re-checked against the policy); new
 * passwords additionally go through `assertPasswordAcceptable` in the service.
 *
 * @example
 * const LoginBody = z.object({ email: EmailField, password: passwordField() }).openapi("LoginRequest");
 * const ChangeBody = z.object({
 *   current_password: passwordField("The password in use now"),
 *   new_password: passwordField(NEW_PASSWORD_DESCRIPTION),
 * });
 */
export function passwordField(description = "The password, exactly as typed (no trimming).") {
  return z
    .string()
    .min(1, "Password is required.")
    .max(PASSWORD_MAX_BYTES, PASSWORD_MESSAGES.tooLong)
    .refine((value) => utf8ByteLength(value) <= PASSWORD_MAX_BYTES, { message: PASSWORD_MESSAGES.tooLong })
    .openapi({ format: "password", description, example: "correct horse battery staple" });
}

/**
 * OpenAPI description for a new-password field. The minimum is configuration, so the document
 * names the setting and its default rather than a number fixed at import time.
 */
export const NEW_PASSWORD_DESCRIPTION =
  "A new password: at least PASSWORD_MIN_LENGTH characters (Unicode code points; 8 by default), " +
  `at most ${PASSWORD_MAX_BYTES} bytes of UTF-8, not among the most common passwords (compared ` +
  "case-insensitively) and not the email address. Any characters are allowed and there are no " +
  "composition rules. Used exactly as typed: no trimming, no case folding, no normalization.";
