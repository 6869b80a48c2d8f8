import type { Config } from "../../config";
import { sha256Hex } from "../tokens";

/**
 * The key of email-shard selection and of login device tokens: RATE_LIMIT_SECRET (staging and
 * production refuse to start without one). A development or test run without it derives one from
 * the first JWT signing key, which is equally secret and stable across restarts.
 */
export async function rateLimitSecret(config: Pick<Config, "RATE_LIMIT_SECRET" | "JWT_SIGNING_KEYS">): Promise<string> {
  if (config.RATE_LIMIT_SECRET) return config.RATE_LIMIT_SECRET;
  const key = config.JWT_SIGNING_KEYS[0];
  return sha256Hex(`rate-limit-secret:v1:${key?.kid ?? ""}:${key?.d ?? ""}`);
}
