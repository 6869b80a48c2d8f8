import { z } from "@hono/zod-openapi";
import { PaginationQuerySchema, pageSchema } from "../../lib/pagination";

/** `resource:action`, each part a lower-case letter then lower-case letters, digits, _ or -. */
export const PERMISSION_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}:[a-z][a-z0-9_-]{0,62}$/;

export const PermissionIdParamSchema = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});

export const PermissionSchema = z
  .object({
    id: z.uuid(),
    name: z.string().max(128).openapi({ example: "reports:export" }),
    description: z.string().max(500),
    is_system: z.boolean().openapi({ description: "Catalog permissions come from the code and cannot be deleted" }),
    created_at: z.iso.datetime().max(30),
  })
  .openapi("Permission");

export type PermissionItem = z.infer<typeof PermissionSchema>;

export const PermissionPageSchema = pageSchema(PermissionSchema, "PermissionPage");

export const ListPermissionsQuerySchema = PaginationQuerySchema;

export const CreatePermissionSchema = z
  .object({
    name: z
      .string()
      .max(128)
      .regex(PERMISSION_NAME_PATTERN, "must be resource:action in lower-case letters, digits, _ or -")
      .openapi({ example: "reports:export" }),
    description: z.string().trim().max(500).default(""),
  })
  .strict()
  .openapi("CreatePermissionRequest");

export type CreatePermissionInput = z.infer<typeof CreatePermissionSchema>;
