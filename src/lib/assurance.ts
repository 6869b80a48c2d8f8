/**
 * Authentication assurance of a session (docs/mfa.md). A session keeps how its user signed in
 * (`acr` aal1/aal2, RFC 8176 `amr`, `auth_time`) for its whole life: refresh never raises it. A
 * step-up adds a second-factor proof that lifts an aal1 session to aal2 only for
 * MFA_STEP_UP_WINDOW seconds, after which tokens carry the sign-in level again. Routes that want
 * a *fresh* second factor (requireAssurance) look at the proof's time, not at `acr`.
 */

export type AssuranceLevel = "aal1" | "aal2";

/** RFC 8176 method values this service issues. */
export type AuthMethod = "pwd" | "otp" | "hwk" | "swk" | "user" | "mfa";

/** What a session row stores about its authentication. */
export interface SessionAssurance {
  acr: AssuranceLevel;
  amr: string[];
  authTime: number;
  /** Epoch ms of the newest second-factor proof (the sign-in's or a step-up's), or null. */
  mfaVerifiedAt: number | null;
  /** The methods of that proof. */
  mfaMethods: string[] | null;
}

/** How a new session authenticated: the columns startSession writes. */
export interface SignInAssurance {
  acr: AssuranceLevel;
  amr: AuthMethod[];
  /** The second-factor methods of the sign-in, when it had one (their time is the sign-in's). */
  mfaMethods: AuthMethod[] | null;
}

export const PASSWORD_ONLY: SignInAssurance = { acr: "aal1", amr: ["pwd"], mfaMethods: null };

/** True while the newest second-factor proof is younger than `windowSeconds`. */
export function hasFreshSecondFactor(session: Pick<SessionAssurance, "mfaVerifiedAt">, now: number, windowSeconds: number): boolean {
  return session.mfaVerifiedAt !== null && now < session.mfaVerifiedAt + windowSeconds * 1000;
}

/**
 * The level and methods an access token issued now carries: the sign-in's, lifted to aal2 (with
 * the step-up's methods and `mfa`) while a step-up on an aal1 session is fresh.
 */
export function currentAssurance(session: SessionAssurance, now: number, windowSeconds: number): { acr: AssuranceLevel; amr: string[]; authTime: number } {
  if (session.acr === "aal2" || !hasFreshSecondFactor(session, now, windowSeconds)) {
    return { acr: session.acr, amr: session.amr, authTime: session.authTime };
  }
  const amr = [...new Set([...session.amr, ...(session.mfaMethods ?? []), "mfa"])];
  return { acr: "aal2", amr, authTime: session.authTime };
}

/** Parses a stored JSON array of method names; anything else reads as no methods. */
export function parseMethods(text: string | null): string[] {
  if (text === null) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}
