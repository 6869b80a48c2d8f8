import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { mfaChallenges, recoveryCodes, totpFactors, users, webauthnCredentials } from "../../db/schema";
import type { AppEnv } from "../../bindings";
import { writeWithAudit } from "../../lib/audit";
import { buildLink, mfaChangedEmail } from "../../lib/mail";
import { errorResponses } from "../../lib/openapi";
import { ProblemError } from "../../lib/problem";
import { requireAssurance, sessionPrincipalOf } from "../../middleware/assurance";
import { requirePermission } from "../../middleware/auth";
import { authDeps, type AuthDeps } from "../auth/auth.context";
import { factorCounts } from "./mfa.state";
import { IdParamSchema } from "./mfa.schemas";

export const mfaAdminRoutes = new OpenAPIHono<AppEnv>();

/**
 * Lost device: removes every second factor of a user (app, passkeys, recovery codes, pending
 * logins), audited, and tells the user by email. Their sessions stay; their next sign-in is
 * password-only until they enroll again.
 */
export async function resetUserMfa(deps: AuthDeps, actor: { userId: string; sessionId: string }, userId: string): Promise<void> {
  const user = await deps.db.select({ email: users.email }).from(users).where(eq(users.id, userId)).get();
  if (!user) throw new ProblemError("not_found", { detail: "No such user." });
  const before = await factorCounts(deps.db.$client, userId);
  await writeWithAudit(
    deps.db,
    deps.actor,
    [{ action: "mfa.reset", actorUserId: actor.userId, sessionId: actor.sessionId, targetType: "user", targetId: userId, changes: { totp: before.totp, passkeys: before.passkeys, recovery_codes: before.recoveryCodes } }],
    () => [
      deps.db.delete(totpFactors).where(eq(totpFactors.userId, userId)),
      deps.db.delete(webauthnCredentials).where(eq(webauthnCredentials.userId, userId)),
      deps.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
      deps.db.delete(mfaChallenges).where(eq(mfaChallenges.userId, userId)),
    ],
    deps.now,
  );
  deps.mail({ to: user.email, ...mfaChangedEmail("reset_by_admin", buildLink(deps.config, "/account/security")) });
}

const resetMfaRoute = createRoute({
  method: "delete",
  path: "/users/{id}/mfa",
  operationId: "resetUserMfa",
  tags: ["Users"],
  summary: "Remove every second factor of a user who lost their device (audited; the user is emailed)",
  ...requireAssurance("aal2", requirePermission("mfa:reset")),
  request: { params: IdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "The user's factors are removed" } },
});

mfaAdminRoutes.openapi(resetMfaRoute, async (c) => {
  await resetUserMfa(authDeps(c), sessionPrincipalOf(c), c.req.valid("param").id);
  return c.body(null, 204);
});
