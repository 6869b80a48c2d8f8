import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../bindings";
import { writeWithAudit } from "../../lib/audit";
import { errorResponses } from "../../lib/openapi";
import { resetRateLimits } from "../../lib/rate-limit/reset";
import { requirePermission } from "../../middleware/auth";
import { authDeps } from "../auth/auth.context";
import { callerOf } from "../roles/roles.context";
import { assertHolds } from "../roles/roles.guards";
import { UserIdParamSchema } from "./users.admin.schemas";
import { requireUser } from "./users.admin.service";

/** POST /users/{id}/unlock: an administrator clears a user's lock-outs. */
export const userUnlockRoutes = new OpenAPIHono<AppEnv>();

const unlockUserRoute = createRoute({
  method: "post",
  path: "/users/{id}/unlock",
  operationId: "unlockUser",
  tags: ["Users"],
  summary: "Clear a user's lock-outs: failed logins from unknown clients and wrong current passwords",
  description:
    "The caller must hold every permission the user holds. Recorded in the audit log as `user.unlocked`. " +
    "Device counters (clients with a device token) are not touched: only that device's own failures lock it.",
  ...requirePermission("users:update"),
  request: { params: UserIdParamSchema },
  responses: { ...errorResponses(401, 403, 404, 429), 204: { description: "The lock-outs are cleared" } },
});

userUnlockRoutes.openapi(unlockUserRoute, async (c) => {
  const deps = authDeps(c);
  const caller = callerOf(c);
  const user = await requireUser(deps.db, c.req.valid("param").id);
  assertHolds(caller, user.permissions, "Unlocking this user");
  await resetRateLimits(c, [
    { policy: "login_account", key: user.email },
    { policy: "password_change_user", key: user.id },
  ]);
  await writeWithAudit(deps.db, deps.actor, [{ action: "user.unlocked", sessionId: caller.sessionId, targetType: "user", targetId: user.id }], () => [], deps.now);
  return c.body(null, 204);
});
