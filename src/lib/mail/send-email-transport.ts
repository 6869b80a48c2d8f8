import { EmailMessage } from "cloudflare:email";
import { MailError, type MailMessage, type MailTransport } from "./message";
import { buildMimeMessage, parseMailbox } from "./mime";

export interface SendEmailTransportOptions {
  /** The configured sender, e.g. `Edge Auth <no-reply@example.com>` (MAIL_FROM). */
  from: string;
  /** For tests; defaults to the current time. */
  now?: () => Date;
}

/**
 * Delivers through Cloudflare's `send_email` binding with a complete RFC 5322 message. The sender
 * must be an address on a domain with Email Routing; the recipient a verified destination, unless
 * the binding allows any (see docs/email.md).
 */
export function createSendEmailTransport(binding: SendEmail, options: SendEmailTransportOptions): MailTransport {
  const sender = parseMailbox(options.from);
  const now = options.now ?? (() => new Date());
  return {
    async send(message: MailMessage): Promise<void> {
      const mime = buildMimeMessage({ from: sender, to: message.to, subject: message.subject, text: message.text, html: message.html, date: now() });
      try {
        await binding.send(new EmailMessage(mime.envelopeFrom, mime.envelopeTo, mime.raw));
      } catch (error) {
        throw new MailError(`send_email binding refused the message: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
  };
}
