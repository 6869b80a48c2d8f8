/**
 * Assurance guards (docs/mfa.md), kept apart from the authentication hot path: they read D1 only
 * on routes that declare them.
 *
 * - `requireAssurance("aal2", guard)`: the caller's session must have proven a second factor within
 *   MFA_STEP_UP_WINDOW, or the route answers 401 `step_up_required` with an RFC 9470 challenge. An
 *   account without any second factor has nothing to step up with; it passes at its only level,
 *   and MFA_REQUIRED_PERMISSIONS is how an operator makes enrollment mandatory.
 *   An API key is not a session and cannot step up: these routes refuse it (403 `session_required`).
 * - The enrollment policy (called by the permission check): holders of a permission listed in
 *   MFA_REQUIRED_PERMISSIONS get 403 `mfa_enrollment_required` on routes needing it until they enroll.
 *   It applies to a person's API keys too (the owner must have enrolled), not to service accounts,
 *   which never sign in and so cannot enroll.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../bindings";
import { hasFreshSecondFactor, type AssuranceLevel } from "../lib/assurance";
import { ProblemError } from "../lib/problem";
import type { Principal } from "../lib/principal";
import { callerFactorState } from "../modules/mfa/mfa.state";
import { principalOf } from "./auth";

/** The caller, who must hold a session (an access token): API keys are refused with 403 `session_required`. */
export function sessionPrincipalOf(c: Context<AppEnv>): Principal & { sessionId: string } {
  const principal = principalOf(c);
  if (principal.sessionId === null) {
    throw new ProblemError("session_required", { detail: "This action needs a signed-in user's session (an access token); an API key cannot perform it." });
  }
  return principal as Principal & { sessionId: string };
}

interface GuardLike {
  middleware: readonly MiddlewareHandler<AppEnv>[];
}

function assuranceMiddleware(level: AssuranceLevel): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (level === "aal2") {
      const principal = sessionPrincipalOf(c);
      const config = c.get("config");
      const state = await callerFactorState(c, principal);
      if (state.hasFactor && !hasFreshSecondFactor(state, Date.now(), config.MFA_STEP_UP_WINDOW)) {
        throw new ProblemError("step_up_required", {
          detail: `This action needs a second factor verified within the last ${config.MFA_STEP_UP_WINDOW} seconds: POST /api/v1/auth/mfa/step-up.`,
          extensions: { required_assurance: level, max_age: config.MFA_STEP_UP_WINDOW },
          headers: {
            // RFC 9470 (OAuth 2.0 Step-Up Authentication Challenge).
            "WWW-Authenticate": `Bearer error="insufficient_user_authentication", error_description="A fresh second factor is required", acr_values="${level}", max_age=${config.MFA_STEP_UP_WINDOW}`,
          },
        });
      }
    }
    await next();
  });
}

/**
 * Adds an assurance requirement to a permission guard, for the OpenAPI document
 * (`x-required-assurance`) and the enforcement alike.
 *
 * @example createRoute({ method: "delete", path: "/roles/{id}", ...requireAssurance("aal2", requirePermission("roles:write")), responses })
 */
export function requireAssurance<G extends GuardLike>(
  level: AssuranceLevel,
  guard: G,
): Omit<G, "middleware"> & { middleware: [...G["middleware"], MiddlewareHandler<AppEnv>]; "x-required-assurance": AssuranceLevel } {
  return { ...guard, middleware: [...guard.middleware, assuranceMiddleware(level)] as unknown as [...G["middleware"], MiddlewareHandler<AppEnv>], "x-required-assurance": level };
}

/** True when `permission` is listed, directly or by its resource's `resource:*`. */
export function isMfaRequiredFor(permission: string, policy: readonly string[]): boolean {
  const resource = permission.slice(0, permission.indexOf(":"));
  return policy.includes(permission) || policy.includes(`${resource}:*`);
}

/**
 * The enrollment policy: when the route needs a permission the caller holds and the policy
 * covers, the caller must have a second factor.
 */
export async function enforceMfaEnrollment(c: Context<AppEnv>, principal: Pick<Principal, "userId" | "sessionId" | "permissions">, needed: readonly string[]): Promise<void> {
  const policy = c.get("config").MFA_REQUIRED_PERMISSIONS;
  if (policy.length === 0) return;
  const covered = needed.filter((permission) => principal.permissions.has(permission) && isMfaRequiredFor(permission, policy));
  if (covered.length === 0) return;
  const state = await callerFactorState(c, principal);
  if (!state.hasFactor && !state.isService) {
    throw new ProblemError("mfa_enrollment_required", {
      detail: `Holders of ${covered.join(", ")} must set up a second factor first (POST /api/v1/auth/mfa/totp or a passkey).`,
      extensions: { mfa_required_permissions: covered },
    });
  }
}
