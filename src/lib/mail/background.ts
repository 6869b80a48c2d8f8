import type { Context } from "hono";
import type { AppEnv, Bindings } from "../../bindings";
import type { Config } from "../../config";
import type { Logger } from "../logger";
import { sha256Hex } from "../tokens";
import type { MailMessage } from "./message";
import { createMailTransport, type MailTransportDeps } from "./transport";

/**
 * Queues a message for delivery and returns at once. Services take a `Mailer` so they stay free
 * of Hono; route handlers get one from `mailerFor(c)`.
 */
export type Mailer = (message: MailMessage) => void;

export interface BackgroundMailContext {
  env: Bindings;
  config: Config;
  logger: Logger;
  /** `ctx.waitUntil`: keeps the isolate alive for the delivery after the response is sent. */
  waitUntil: (promise: Promise<unknown>) => void;
}

/** A short, stable pseudonym of a recipient so failures can be correlated without logging the address. */
async function recipientHash(address: string): Promise<string> {
  return (await sha256Hex(address)).slice(0, 16);
}

/** An error's message without anything that could be an address, a link or a token in it. */
function scrub(message: string): string {
  return message
    .replace(/\S+@\S+/g, "[address]")
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "[url]")
    .replace(/[A-Za-z0-9_-]{24,}/g, "[redacted]")
    .slice(0, 300);
}

/**
 * Delivers `message` and never rejects: a failure is logged with the message kind, a hash of the
 * recipient and the error (never the address, the link or the body) and otherwise swallowed, so
 * nothing about mail delivery can reach or delay a client.
 */
export async function deliverQuietly(context: Omit<BackgroundMailContext, "waitUntil">, message: MailMessage, deps?: MailTransportDeps): Promise<void> {
  try {
    await createMailTransport(context.env, context.config, deps).send(message);
    context.logger.debug("mail sent", { kind: message.kind, recipient_hash: await recipientHash(message.to) });
  } catch (error) {
    const fields: Record<string, unknown> = { kind: message.kind, recipient_hash: await recipientHash(message.to) };
    if (error instanceof Error) {
      fields.error_name = error.name;
      fields.error_message = scrub(error.message);
      if ("status" in error && typeof error.status === "number") fields.status = error.status;
    } else {
      fields.error_message = scrub(String(error));
    }
    context.logger.error("mail delivery failed", fields);
  }
}

/**
 * A `Mailer` that sends in `waitUntil`, so the response never waits for (or reveals) delivery.
 *
 * @example
 * const mail = createBackgroundMailer({ env, config, logger, waitUntil: (p) => ctx.waitUntil(p) });
 * mail({ to: user.email, ...passwordChangedEmail() });
 */
export function createBackgroundMailer(context: BackgroundMailContext, deps?: MailTransportDeps): Mailer {
  return (message) => {
    context.waitUntil(deliverQuietly(context, message, deps));
  };
}

/** The request's `Mailer`: its bindings, config and logger, and its execution context's `waitUntil`. */
export function mailerFor(c: Context<AppEnv>, deps?: MailTransportDeps): Mailer {
  let waitUntil: (promise: Promise<unknown>) => void;
  try {
    const executionCtx = c.executionCtx;
    waitUntil = (promise) => executionCtx.waitUntil(promise);
  } catch {
    // Without an execution context (app.request in unit tests) the promise simply runs on;
    // deliverQuietly never rejects, so nothing is left unhandled.
    waitUntil = () => {};
  }
  return createBackgroundMailer({ env: c.env, config: c.var.config, logger: c.var.logger, waitUntil }, deps);
}

/**
 * Sends `message` in the background of the current request.
 *
 * @example
 * sendInBackground(c, { to: user.email, ...verificationEmail(buildLink(c.var.config, "/verify-email", { token }), "24 hours") });
 */
export function sendInBackground(c: Context<AppEnv>, message: MailMessage, deps?: MailTransportDeps): void {
  mailerFor(c, deps)(message);
}
