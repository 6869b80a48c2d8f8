/**
 * The pause between the first factor and the second: a login whose password was right, on an
 * account with a second factor, gets an mfa_token instead of tokens. Only that token (single-use,
 * MFA_TOKEN_TTL) and a proven second factor turn into a session (mfa-login.service.ts).
 */
import type { BatchItem } from "drizzle-orm/batch";
import { mfaChallenges } from "../../db/schema";
import { randomToken } from "../../lib/tokens";
import type { AuthDeps } from "../auth/auth.context";
import { challengeRow } from "./challenges";
import type { SecondFactorMethod } from "./mfa.state";

export const MFA_TOKEN_PREFIX = "mfa_";

export interface MfaRequired {
  status: "mfa_required";
  mfa_token: string;
  methods: SecondFactorMethod[];
  expires_in: number;
}

/**
 * Stores the login attempt and answers mfa_required. `extra` (the first factor's guard, a password
 * rehash) runs first in the same batch; the row keeps the password_changed_at the password was
 * checked against, so the second step can refuse when a reset landed in between.
 */
export async function beginSecondFactor(
  deps: AuthDeps,
  user: { id: string; passwordChangedAt: number },
  methods: SecondFactorMethod[],
  extra: BatchItem<"sqlite">[] = [],
): Promise<MfaRequired> {
  const token = randomToken(32, MFA_TOKEN_PREFIX);
  const row = await challengeRow(deps, "login", token, { userId: user.id, amr: ["pwd"], passwordChangedAt: user.passwordChangedAt });
  const [first, ...rest]: BatchItem<"sqlite">[] = [...extra, deps.db.insert(mfaChallenges).values(row)];
  await deps.db.batch([first!, ...rest]);
  return { status: "mfa_required", mfa_token: token, methods, expires_in: deps.config.MFA_TOKEN_TTL };
}
