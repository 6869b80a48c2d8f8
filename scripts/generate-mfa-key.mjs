// `npm run keys:mfa`: prints a new MFA_ENCRYPTION_KEYS entry (AES-256-GCM). To rotate, put it
// first in the array and keep the old entry after it: new TOTP secrets use the first key, every
// listed key still decrypts. Drop the old entry only when no totp_factors row names its kid
// (`select count(*) from totp_factors where secret_ciphertext like '<old kid>.%'`); docs/mfa.md.
import { newMfaEncryptionKey } from "./keys.mjs";

const key = newMfaEncryptionKey();
if (process.argv.includes("--array")) console.log(JSON.stringify([key]));
else console.log(JSON.stringify(key));
