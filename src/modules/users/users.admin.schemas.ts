import { z } from "@hono/zod-openapi";
import { PaginationQuerySchema, pageSchema } from "../../lib/pagination";
import { EmailSchema, PasswordSchema } from "../auth/auth.schemas";
import { ProfileSchema } from "./users.schemas";

/** A user id in a path. Only UUIDs match, so `/users/me` never reaches the admin routes. */
export const UserIdParamSchema = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});

const BooleanQuery = z
  .enum(["true", "false"])
  .transform((value) => value === "true")
  .optional();

/** A role name as referenced in requests; existence is checked against D1 (unknown: 422). */
export const RoleReferenceSchema = z.string().min(1).max(64).openapi({ example: "manager" });

export const ListUsersQuerySchema = PaginationQuerySchema.extend({
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ param: { name: "q", in: "query" }, description: "Prefix of the email, first name or last name (case-insensitive)", example: "ada" }),
  role: RoleReferenceSchema.optional().openapi({ param: { name: "role", in: "query" }, description: "Only users with this role (an unknown role is a 422)" }),
  is_active: BooleanQuery.openapi({ param: { name: "is_active", in: "query" } }),
  is_approved: BooleanQuery.openapi({ param: { name: "is_approved", in: "query" } }),
});

export type ListUsersQuery = z.infer<typeof ListUsersQuerySchema>;

export const UserSummarySchema = ProfileSchema.omit({ permissions: true }).openapi("UserSummary");
export type UserSummary = z.infer<typeof UserSummarySchema>;

export const UserPageSchema = pageSchema(UserSummarySchema, "UserPage");

const NameSchema = z.string().trim().min(1).max(100);
const OptionalNameSchema = z.string().trim().max(100).nullable();
const RoleListSchema = z.array(RoleReferenceSchema).max(32);

/** An account created by an administrator: verified and approved, with the roles given. */
export const CreateUserSchema = z
  .object({
    email: EmailSchema,
    password: PasswordSchema,
    first_name: NameSchema.openapi({ example: "Ada" }),
    last_name: NameSchema.openapi({ example: "Lovelace" }),
    middle_name: OptionalNameSchema.optional(),
    role_title: OptionalNameSchema.optional(),
    roles: RoleListSchema.optional().openapi({ description: "Role names; the default role when absent; an unknown name is a 422", example: ["user"] }),
  })
  .strict()
  .openapi("CreateUserRequest");

export type CreateUserInput = z.infer<typeof CreateUserSchema>;

/** What an administrator may change on an account. Roles have their own route; email and password are the owner's. */
export const UpdateUserSchema = z
  .object({
    first_name: NameSchema.optional(),
    middle_name: OptionalNameSchema.optional(),
    last_name: NameSchema.optional(),
    role_title: OptionalNameSchema.optional(),
    is_active: z.boolean().optional().openapi({ description: "false disables the account and ends all its sessions" }),
    is_approved: z.boolean().optional().openapi({ description: "false withdraws approval and ends all its sessions" }),
  })
  .strict()
  .openapi("UpdateUserRequest");

export type UpdateUserInput = z.infer<typeof UpdateUserSchema>;

export const ReplaceRolesSchema = z
  .object({ roles: RoleListSchema.openapi({ description: "The complete new set of role names", example: ["user", "manager"] }) })
  .strict()
  .openapi("ReplaceRolesRequest");
