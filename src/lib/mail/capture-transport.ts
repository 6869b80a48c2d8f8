import type { Database } from "../../db/client";
import { capturedMails } from "../../db/schema";
import { normalizeEmail } from "../email";
import { newId } from "../ids";
import type { MailMessage, MailTransport } from "./message";

/**
 * The development and test transport: every message is stored in D1 (`captured_mails`) instead of
 * being delivered, and read back through `GET /api/v1/dev/mailbox`. The HTML alternative is not
 * stored; the text body carries the same links.
 */
export function createCaptureTransport(db: Database, now: () => number = Date.now): MailTransport {
  return {
    async send(message: MailMessage): Promise<void> {
      const createdAt = now();
      await db.insert(capturedMails).values({
        id: newId(createdAt),
        // Stored normalized so the mailbox finds it however the address was typed.
        toAddress: normalizeEmail(message.to),
        subject: message.subject,
        textBody: message.text,
        createdAt,
      });
    },
  };
}
