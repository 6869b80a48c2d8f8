/**
 * Email addresses as identities. One normal form is used everywhere an address is compared,
 * stored or counted (accounts, rate-limit keys), so `Alice@Example.com`, ` alice@example.com `
 * and the full-width `ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ` are one account and one lockout bucket.
 */

/**
 * Trims surrounding whitespace, applies Unicode NFKC (full-width and compatibility forms fold
 * to their plain letters) and lower-cases. Idempotent: `normalizeEmail(normalizeEmail(x))`
 * equals `normalizeEmail(x)`. It does not validate; validation is the schema's job.
 *
 * @example
 * normalizeEmail("  Alice@EXAMPLE.com ") // "alice@example.com"
 */
export function normalizeEmail(email: string): string {
  // NFKC again after lower-casing: a few lower-case mappings leave a non-NFKC sequence behind.
  return email.normalize("NFKC").trim().toLowerCase().normalize("NFKC");
}
