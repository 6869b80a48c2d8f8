import { z } from "@hono/zod-openapi";

export const ProfileSchema = z
  .object({
    id: z.string().uuid(),
    email: z.string().max(254),
    first_name: z.string().max(100),
    middle_name: z.string().max(100).nullable(),
    last_name: z.string().max(100),
    role_title: z.string().max(100).nullable(),
    email_verified: z.boolean(),
    is_active: z.boolean(),
    is_approved: z.boolean(),
    roles: z.array(z.string().max(64)).max(64).openapi({ example: ["user"] }),
    permissions: z.array(z.string().max(128)).max(1000).openapi({ example: ["profile:read", "profile:update"] }),
    created_at: z.string().datetime().max(30),
  })
  .openapi("Profile");

export type Profile = z.infer<typeof ProfileSchema>;

const EditableName = z.string().trim().min(1).max(100);
const EditableOptionalName = z.string().trim().max(100).nullable();

/**
 * What a user may change about themselves. `.strict()` turns any other field (roles, flags,
 * email, password, `__proto__`) into a 422 instead of silently ignoring it.
 */
export const UpdateMyProfileSchema = z
  .object({
    first_name: EditableName.optional(),
    middle_name: EditableOptionalName.optional(),
    last_name: EditableName.optional(),
    role_title: EditableOptionalName.optional(),
  })
  .strict()
  .openapi("UpdateMyProfileRequest");

export type ProfileChanges = z.infer<typeof UpdateMyProfileSchema>;
