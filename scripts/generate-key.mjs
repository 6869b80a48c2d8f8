// `npm run keys:generate`: prints a new private signing JWK. To rotate without logging anyone out,
// put it first in the JWT_SIGNING_KEYS array, keep the old key after it until every token signed
// by the old key has expired (ACCESS_TOKEN_TTL), then drop the old key. See docs/RUNBOOK.md.
import { newSigningKey } from "./keys.mjs";

const key = newSigningKey();
if (process.argv.includes("--array")) console.log(JSON.stringify([key]));
else console.log(JSON.stringify(key));
