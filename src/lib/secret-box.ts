/**
 * Authenticated encryption of small secrets at rest (TOTP seeds) with AES-256-GCM under a
 * rotatable key ring: MFA_ENCRYPTION_KEYS lists `{kid, key}` entries, the first encrypts and every
 * one decrypts, so a new key can be put first and the old one removed once nothing uses it.
 * The sealed form `<kid>.<iv>.<ciphertext>` names its key; the caller's `context` (the user id) is
 * bound as additional data, so a ciphertext copied onto another user's row does not decrypt.
 */
import type { MfaEncryptionKey } from "../config";
import { base64Url } from "./tokens";

const IV_BYTES = 12;

export class SecretBoxError extends Error {
  override name = "SecretBoxError";
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

const imported = new WeakMap<MfaEncryptionKey, Promise<CryptoKey>>();

function importKey(entry: MfaEncryptionKey): Promise<CryptoKey> {
  let key = imported.get(entry);
  if (!key) {
    key = crypto.subtle.importKey("raw", fromBase64Url(entry.key), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    imported.set(entry, key);
  }
  return key;
}

/** Encrypts `plaintext` with the first key of the ring; throws SecretBoxError when the ring is empty. */
export async function seal(keys: readonly MfaEncryptionKey[], plaintext: Uint8Array, context: string): Promise<string> {
  const entry = keys[0];
  if (!entry) throw new SecretBoxError("no encryption key is configured");
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const data = new Uint8Array(plaintext);
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) }, await importKey(entry), data);
  return `${entry.kid}.${base64Url(iv)}.${base64Url(new Uint8Array(ciphertext))}`;
}

/** Decrypts a sealed value with the key its kid names; throws SecretBoxError when it cannot. */
export async function open(keys: readonly MfaEncryptionKey[], sealed: string, context: string): Promise<Uint8Array> {
  const [kid, iv, ciphertext] = sealed.split(".");
  const entry = keys.find((key) => key.kid === kid);
  if (!entry || !iv || !ciphertext) throw new SecretBoxError(`no key for kid ${kid ?? "(none)"}`);
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64Url(iv), additionalData: new TextEncoder().encode(context) },
      await importKey(entry),
      fromBase64Url(ciphertext),
    );
    return new Uint8Array(plaintext);
  } catch (error) {
    throw new SecretBoxError("the ciphertext does not authenticate", { cause: error });
  }
}

/** The kid a sealed value was encrypted with (to find rows still under a retired key). */
export function sealedKid(sealed: string): string {
  return sealed.split(".")[0] ?? "";
}

export { fromBase64Url };
