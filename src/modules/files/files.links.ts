/**
 * Short-lived signed download links: `…/files/{id}/download?expires=<unix s>&signature=<HMAC>`.
 * The link itself is the credential (for browsers and `<a download>`, which cannot send a bearer
 * token), so it names one file, expires within FILE_LINK_TTL and cannot be altered.
 */
import type { Config } from "../../config";
import { base64Url, sha256Hex, timingSafeEqual } from "../../lib/tokens";

/** Domain-separates these MACs from any other use of the same secret; `v1` allows a format change. */
const CONTEXT = "file-download:v1";

const keyCache = new Map<string, Promise<CryptoKey>>();

/**
 * The HMAC secret: FILE_LINK_SECRET (staging and production refuse to start without one). A
 * development run without it derives one from the first JWT signing key, which is equally
 * secret and stable across restarts, so links keep working locally.
 */
async function linkSecret(config: Config): Promise<string> {
  if (config.FILE_LINK_SECRET) return config.FILE_LINK_SECRET;
  const key = config.JWT_SIGNING_KEYS[0];
  return sha256Hex(`${CONTEXT}:${key?.kid ?? ""}:${key?.d ?? ""}`);
}

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keyCache.set(secret, key);
  }
  return key;
}

/** The base64url HMAC-SHA256 over the file id and the expiry. */
export async function signDownload(config: Config, fileId: string, expires: number): Promise<string> {
  const key = await hmacKey(await linkSecret(config));
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${CONTEXT}\n${fileId}\n${expires}`));
  return base64Url(new Uint8Array(mac));
}

export interface DownloadLink {
  url: string;
  /** Unix seconds. */
  expires: number;
}

/**
 * A link to `fileId` valid for `ttlSeconds` (callers cap it at FILE_LINK_TTL).
 *
 * @example await createDownloadLink(config, file.id, 300, Date.now()) // { url: "https://…/download?expires=…&signature=…", expires }
 */
export async function createDownloadLink(config: Config, fileId: string, ttlSeconds: number, now: number): Promise<DownloadLink> {
  const expires = Math.floor(now / 1000) + ttlSeconds;
  const signature = await signDownload(config, fileId, expires);
  const url = new URL(`${config.PUBLIC_BASE_URL}/api/v1/files/${encodeURIComponent(fileId)}/download`);
  url.searchParams.set("expires", String(expires));
  url.searchParams.set("signature", signature);
  return { url: url.toString(), expires };
}

export type LinkCheck = "valid" | "expired" | "invalid";

/**
 * Checks a presented link. The signature is verified before the expiry is trusted, and compared
 * in constant time, so neither a forged expiry nor timing tells an attacker anything.
 */
export async function verifyDownloadLink(config: Config, fileId: string, expires: string, signature: string, now: number): Promise<LinkCheck> {
  if (!/^\d{1,12}$/.test(expires) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return "invalid";
  const expected = await signDownload(config, fileId, Number(expires));
  if (!timingSafeEqual(expected, signature)) return "invalid";
  return Number(expires) * 1000 <= now ? "expired" : "valid";
}
