import { z } from "@hono/zod-openapi";
import { PaginationQuerySchema, pageSchema } from "../../lib/pagination";

/** Permissions that can exist at all (catalog plus custom); the admin role holds every one. */
export const MAX_PERMISSIONS = 1000;
const MAX_COUNT = 2 ** 31 - 1;

/** Lower-case letters, digits, `_` and `-`, starting with a letter; 2-64 characters. */
export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{1,63}$/;

export const RoleNameSchema = z
  .string()
  .max(64)
  .regex(ROLE_NAME_PATTERN, "must be 2-64 characters: a lower-case letter, then lower-case letters, digits, _ or -")
  .openapi({ example: "support" });

/** A permission as referenced in requests; existence is checked against D1 (unknown: 422). */
export const PermissionReferenceSchema = z.string().min(1).max(128).openapi({ example: "users:read" });

const DescriptionSchema = z.string().trim().max(500);
const PermissionListSchema = z.array(PermissionReferenceSchema).max(200);

/** AI policy (issue 11): null is unlimited, 0 is no AI; a user gets the most generous of their roles'. */
const AiDailyTokenLimitSchema = z
  .number()
  .int()
  .min(0)
  .max(1_000_000_000_000)
  .openapi({ format: "int64" })
  .nullable()
  .openapi({ description: "AI tokens per UTC day (null: unlimited, 0: no AI); setting it needs ai:manage", example: 100000 });
const AiMonthlyCostLimitSchema = z
  .number()
  .min(0)
  .max(1_000_000)
  .multipleOf(0.000001)
  .nullable()
  .openapi({ description: "AI cost in USD per UTC month (null: unlimited); setting it needs ai:manage", example: 25 });

export const RoleIdParamSchema = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});

export const RoleSchema = z
  .object({
    id: z.uuid(),
    name: z.string().max(64).openapi({ example: "support" }),
    description: z.string().max(500),
    is_system: z.boolean().openapi({ description: "Seeded roles: cannot be deleted or renamed" }),
    permissions: z.array(z.string().max(128)).max(MAX_PERMISSIONS).openapi({ example: ["users:read", "sessions:revoke"] }),
    user_count: z.number().int().min(0).max(MAX_COUNT).openapi({ description: "How many users hold the role" }),
    ai_daily_token_limit: AiDailyTokenLimitSchema,
    ai_monthly_cost_limit_usd: AiMonthlyCostLimitSchema,
    created_at: z.iso.datetime().max(30),
    updated_at: z.iso.datetime().max(30),
  })
  .openapi("Role");

export type Role = z.infer<typeof RoleSchema>;

export const RolePageSchema = pageSchema(RoleSchema, "RolePage");

export const ListRolesQuerySchema = PaginationQuerySchema;

export const CreateRoleSchema = z
  .object({
    name: RoleNameSchema,
    description: DescriptionSchema.default(""),
    permissions: PermissionListSchema.default([]).openapi({ description: "Permission names; you must hold each; unknown names are a 422" }),
    ai_daily_token_limit: AiDailyTokenLimitSchema.optional(),
    ai_monthly_cost_limit_usd: AiMonthlyCostLimitSchema.optional(),
  })
  .strict()
  .openapi("CreateRoleRequest");

export type CreateRoleInput = z.infer<typeof CreateRoleSchema>;

export const UpdateRoleSchema = z
  .object({
    name: RoleNameSchema.optional().openapi({ description: "System roles cannot be renamed (409)" }),
    description: DescriptionSchema.optional(),
    permissions: PermissionListSchema.optional().openapi({ description: "The complete new set; the admin role's set cannot change (409)" }),
    ai_daily_token_limit: AiDailyTokenLimitSchema.optional(),
    ai_monthly_cost_limit_usd: AiMonthlyCostLimitSchema.optional(),
  })
  .strict()
  .openapi("UpdateRoleRequest");

export type UpdateRoleInput = z.infer<typeof UpdateRoleSchema>;

export const DeleteRoleQuerySchema = z.object({
  force: z
    .enum(["true", "false"])
    .optional()
    .transform((value) => value === "true")
    .openapi({ param: { name: "force", in: "query" }, description: "Required (true) to delete a role that is still assigned" }),
});
