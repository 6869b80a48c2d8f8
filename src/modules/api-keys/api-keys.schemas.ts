import { z } from "@hono/zod-openapi";
import { configMax } from "../../lib/config-bounds";
import { PaginationQuerySchema, pageSchema } from "../../lib/pagination";
import { PermissionReferenceSchema } from "../roles/roles.schemas";

const MAX_SCOPES = 200;
const IsoDateTime = z.iso.datetime().max(30);
const Scopes = z.array(PermissionReferenceSchema).min(1).max(MAX_SCOPES);

export const ApiKeyIdParamSchema = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
});

export const CreateApiKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: "nightly export" }),
    scopes: Scopes.openapi({
      description: "Permissions the key may use: a subset of yours and of the owner's. Effective permissions are these ∩ the owner's current ones.",
      example: ["files:read"],
    }),
    expires_in: z
      .number()
      .int()
      .min(3_600)
      .max(157_680_000)
      .optional()
      .openapi({ ...configMax("API_KEY_MAX_TTL"), description: "Lifetime in seconds (default API_KEY_DEFAULT_TTL; at most API_KEY_MAX_TTL)", example: 2_592_000 }),
    owner_id: z.uuid().optional().openapi({ description: "A user or service account other than you (needs api_keys:manage)" }),
  })
  .strict()
  .openapi("CreateApiKey");

export type CreateApiKeyInput = z.infer<typeof CreateApiKeySchema>;

export const RotateApiKeySchema = z
  .object({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(2_592_000)
      .optional()
      .openapi({
        ...configMax("API_KEY_MAX_ROTATION_OVERLAP"),
        description: "How long the old key keeps working (default 0: it stops at once; at most API_KEY_MAX_ROTATION_OVERLAP)",
        example: 3_600,
      }),
  })
  .strict()
  .openapi("RotateApiKey");

export const ListApiKeysQuerySchema = PaginationQuerySchema.extend({
  owner_id: z.uuid().optional().openapi({ param: { name: "owner_id", in: "query" }, description: "Another owner's keys (needs api_keys:manage); yours by default" }),
});

export type ListApiKeysQuery = z.infer<typeof ListApiKeysQuerySchema>;

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string().max(100),
    prefix: z.string().max(12).openapi({ description: "The key's first characters, to tell keys apart", example: "eak_3kQ9xV1b" }),
    owner_id: z.uuid(),
    scopes: z.array(z.string().max(128)).max(MAX_SCOPES),
    created_by: z.uuid().nullable(),
    created_at: IsoDateTime,
    expires_at: IsoDateTime,
    revoked_at: IsoDateTime.nullable(),
    rotated_from: z.uuid().nullable().openapi({ description: "The key this one replaced by rotation" }),
    last_used_at: IsoDateTime.nullable().openapi({ description: "Updated at most once a minute" }),
    last_used_ip: z.string().max(64).nullable(),
    active: z.boolean().openapi({ description: "Neither revoked nor expired (the owner's state is not considered)" }),
  })
  .openapi("ApiKey");

export type ApiKey = z.infer<typeof ApiKeySchema>;

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z
    .string()
    .max(64)
    .regex(/^eak_[A-Za-z0-9_-]{43}$/)
    .openapi({ description: "The secret, shown only in this response: send it as `Authorization: Bearer eak_…`" }),
}).openapi("CreatedApiKey");

export const ApiKeyPageSchema = pageSchema(ApiKeySchema, "ApiKeyPage");
