import { z } from "@hono/zod-openapi";
import { normalizeEmail } from "../../lib/email";

/** The most messages one mailbox read returns. */
export const MAILBOX_LIMIT = 50;

export const MailboxQuerySchema = z.object({
  to: z
    .string()
    .min(3)
    .max(320)
    // Checked after normalization, so a full-width "＠" counts as the "@" it folds to.
    .refine((value) => /^[^@\s]+@[^@\s]+$/.test(normalizeEmail(value)), "must be an email address")
    .openapi({
      param: { name: "to", in: "query" },
      description: "The recipient; matched after normalization (trim, NFKC, lower-case)",
      example: "alice@example.com",
    }),
});

export const CapturedMailSchema = z
  .object({
    id: z.uuid().openapi({ example: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47" }),
    to: z.string().max(320).openapi({ description: "The normalized recipient", example: "alice@example.com" }),
    subject: z.string().max(998).openapi({ example: "Confirm your email address for Edge Auth" }),
    text: z.string().max(1_000_000).openapi({ description: "The plain-text body, links included" }),
    created_at: z.iso.datetime().max(30).openapi({ example: "2025-01-01T12:00:00.000Z" }),
  })
  .openapi("CapturedMail");

export const MailboxSchema = z
  .object({
    items: z.array(CapturedMailSchema).max(MAILBOX_LIMIT).openapi({ description: "Newest first, at most 50" }),
  })
  .openapi("Mailbox");

export type CapturedMail = z.infer<typeof CapturedMailSchema>;
