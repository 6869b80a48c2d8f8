// Key and secret generation shared by `npm run keys:generate` and `npm start`.
import { generateKeyPairSync, randomBytes } from "node:crypto";

/** A new Ed25519 private JWK with a date-stamped kid, for JWT_SIGNING_KEYS. */
export function newSigningKey() {
  const { privateKey } = generateKeyPairSync("ed25519");
  const stamp = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const kid = `ed25519-${stamp}-${randomBytes(4).toString("hex")}`;
  return { ...privateKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" };
}

/** A URL-safe random secret of `bytes` bytes. */
export function randomSecret(bytes = 32) {
  return randomBytes(bytes).toString("base64url");
}

/** A new AES-256-GCM key with a date-stamped kid, for MFA_ENCRYPTION_KEYS (docs/mfa.md). */
export function newMfaEncryptionKey() {
  const stamp = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  return { kid: `mfa-${stamp}-${randomBytes(4).toString("hex")}`, key: randomBytes(32).toString("base64url") };
}
