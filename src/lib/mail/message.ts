/** What every mail transport sends, whichever way it delivers. */

/** Why a message is sent: logged with every failure so an operator knows which flow broke. */
export type MailKind = "verify_email" | "password_reset" | "registration_attempt" | "password_changed" | "mfa_changed";

export interface MailMessage {
  /** One recipient address (a normalized account email). */
  to: string;
  subject: string;
  /** The plain-text body; always present because some clients show nothing else. */
  text: string;
  /** An optional HTML alternative of the same content. */
  html?: string;
  kind: MailKind;
}

/** A message without its recipient: what the templates produce. */
export type MailContent = Omit<MailMessage, "to">;

export interface MailTransport {
  /** Resolves once the message is accepted for delivery; rejects with a `MailError` otherwise. */
  send(message: MailMessage): Promise<void>;
}

/**
 * A delivery failure. The message names what went wrong and, for HTTP APIs, the status; it never
 * carries a credential, and callers log it without the recipient or the body.
 */
export class MailError extends Error {
  /** The HTTP status of a refused API call, when there was one. */
  readonly status?: number;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MailError";
    if (options.status !== undefined) this.status = options.status;
  }
}
