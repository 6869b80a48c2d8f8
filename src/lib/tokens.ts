/** Opaque secrets (refresh, verification, reset tokens) and how they are stored: hashed. */

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * A URL-safe random token with `bytes` bytes of entropy (32 = 256 bits), optionally prefixed so
 * a leaked token's kind is recognizable (e.g. by secret scanners).
 *
 * @example randomToken(32, "rt_") // "rt_Xq3…" (43 base64url characters after the prefix)
 */
export function randomToken(bytes = 32, prefix = ""): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return `${prefix}${base64Url(buffer)}`;
}

/** Lower-case hex of bytes (a digest or a MAC). */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Lower-case hex SHA-256 of a UTF-8 string: how tokens are stored and looked up. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Constant-time comparison of two strings of equal length (false for different lengths). */
export function timingSafeEqual(left: string, right: string): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left.charCodeAt(index) ^ right.charCodeAt(index);
  return difference === 0;
}

export { base64Url };
