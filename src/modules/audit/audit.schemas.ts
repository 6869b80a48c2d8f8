import { z } from "@hono/zod-openapi";
import { AUDIT_ACTION_NAMES } from "../../lib/audit-actions";
import { PaginationQuerySchema, pageSchema } from "../../lib/pagination";

const IsoDateTime = z.iso.datetime({ offset: true }).max(40);

/** Every action the service records (src/lib/audit-actions.ts); an unknown one is a 422. */
export const AuditActionSchema = z.enum(AUDIT_ACTION_NAMES).openapi("AuditAction", { example: "user.roles_replaced" });

export const AuditQuerySchema = PaginationQuerySchema.extend({
  actor: z.uuid().optional().openapi({ param: { name: "actor", in: "query" }, description: "Only events by this user id" }),
  target: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/, "is not an id")
    .optional()
    .openapi({ param: { name: "target", in: "query" }, description: "Only events about this target id (a user, session, role or permission id)" }),
  action: AuditActionSchema.optional().openapi({
    param: { name: "action", in: "query" },
    description: "Only this action (the list and meanings: docs/rbac.md)",
    example: "user.roles_replaced",
  }),
  since: IsoDateTime.optional().openapi({ param: { name: "since", in: "query" }, description: "Only events at or after this time (ISO 8601)" }),
  until: IsoDateTime.optional().openapi({ param: { name: "until", in: "query" }, description: "Only events before this time (ISO 8601)" }),
});

export type AuditQuery = z.infer<typeof AuditQuerySchema>;

const Hash = z.string().length(64).regex(/^[0-9a-f]{64}$/);
const Seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const AuditEntrySchema = z
  .object({
    seq: Seq.openapi({ description: "Position in the hash chain" }),
    id: z.string().max(64),
    created_at: z.iso.datetime().max(30),
    action: AuditActionSchema,
    actor_user_id: z.string().max(64).nullable(),
    actor_ip: z.string().max(64).nullable(),
    actor_user_agent: z.string().max(512).nullable(),
    request_id: z.string().max(64).nullable(),
    session_id: z.string().max(64).nullable(),
    target_type: z.string().max(32).nullable(),
    target_id: z.string().max(128).nullable(),
    changes: z.record(z.string(), z.unknown()).nullable().openapi({ description: "Before/after of the change; never secrets" }),
    prev_hash: Hash.nullable().openapi({ description: "The previous row's hash; null until the sealer links this row into the chain (about a second after the write)" }),
    hash: Hash.nullable().openapi({ description: "SHA-256 over the row's content and prev_hash; null until sealed" }),
  })
  .openapi("AuditEntry");

export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditPageSchema = pageSchema(AuditEntrySchema, "AuditPage");

export const AuditVerificationSchema = z
  .object({
    intact: z.boolean().openapi({ description: "Every row's hash matches its content and links to the previous row" }),
    checked: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ description: "Sealed rows examined (up to and including the first broken one)" }),
    first_broken_seq: Seq.optional().openapi({ description: "The first row whose hash or link does not match" }),
    head_seq: Seq.nullable().openapi({ format: "int64", description: "The newest row; record it elsewhere to detect truncation later" }),
    head_hash: Hash.nullable(),
    unsealed: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: "Rows written but not yet linked into the chain by the sealer (normally sealed within a second)" }),
    oldest_unsealed_at: z.iso.datetime().max(30).nullable().openapi({ description: "When the oldest unsealed row was written; a growing age means the sealer is not running" }),
  })
  .openapi("AuditVerification");

export type AuditVerification = z.infer<typeof AuditVerificationSchema>;
