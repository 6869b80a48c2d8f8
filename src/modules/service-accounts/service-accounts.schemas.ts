import { z } from "@hono/zod-openapi";
import { PaginationQuerySchema, pageSchema } from "../../lib/pagination";
import { RoleReferenceSchema } from "../users/users.admin.schemas";

const MAX_ROLES = 50;

export const ServiceAccountIdParamSchema = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});

/** Lower-case letters, digits, `.`, `_` and `-`, starting with a letter; unique case-insensitively. */
const NameSchema = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9._-]{1,63}$/, "must be 2-64 characters: a lower-case letter, then lower-case letters, digits, ., _ or -")
  .openapi({ example: "nightly-export" });

export const CreateServiceAccountSchema = z
  .object({
    name: NameSchema,
    description: z.string().trim().max(500).default(""),
    roles: z.array(RoleReferenceSchema).max(MAX_ROLES).default([]).openapi({ description: "Roles to give it; you must hold every permission of them" }),
  })
  .strict()
  .openapi("CreateServiceAccount");

export type CreateServiceAccountInput = z.infer<typeof CreateServiceAccountSchema>;

export const UpdateServiceAccountSchema = z
  .object({
    description: z.string().trim().max(500).optional(),
    is_active: z.boolean().optional().openapi({ description: "false stops every key of the account on the next request" }),
  })
  .strict()
  .openapi("UpdateServiceAccount");

export type UpdateServiceAccountInput = z.infer<typeof UpdateServiceAccountSchema>;

export const ListServiceAccountsQuerySchema = PaginationQuerySchema;

export const ServiceAccountSchema = z
  .object({
    id: z.uuid().openapi({ description: "Also its user id: /users/{id}/roles manages its roles, /api-keys?owner_id= its keys" }),
    name: z.string().max(64),
    description: z.string().max(500),
    is_active: z.boolean(),
    roles: z.array(z.string().max(64)).max(MAX_ROLES),
    created_by: z.uuid().nullable(),
    created_at: z.iso.datetime().max(30),
  })
  .openapi("ServiceAccount");

export type ServiceAccount = z.infer<typeof ServiceAccountSchema>;

export const ServiceAccountPageSchema = pageSchema(ServiceAccountSchema, "ServiceAccountPage");
