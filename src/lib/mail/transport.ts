import { createDb } from "../../db/client";
import type { Bindings } from "../../bindings";
import type { Config } from "../../config";
import { createCaptureTransport } from "./capture-transport";
import { createHttpTransport } from "./http-transport";
import { MailError, type MailTransport } from "./message";
import { createSendEmailTransport } from "./send-email-transport";

export interface MailTransportDeps {
  /** Replaces the global fetch of the `http` transport (tests). */
  fetch?: typeof fetch;
  /** Replaces the clock (tests). */
  now?: () => Date;
}

/**
 * The transport selected by MAIL_TRANSPORT: `capture` stores messages in D1 (development, test),
 * `send_email` uses the `MAIL` binding, `http` posts to MAIL_HTTP_ENDPOINT. Throws `MailError`
 * when the selected transport lacks its binding or settings.
 *
 * @example
 * await createMailTransport(c.env, c.var.config).send({ to, ...verificationEmail(link, "24 hours") })
 */
export function createMailTransport(env: Bindings, config: Config, deps: MailTransportDeps = {}): MailTransport {
  switch (config.MAIL_TRANSPORT) {
    case "capture":
      return createCaptureTransport(createDb(env.DB), deps.now ? () => deps.now!().getTime() : undefined);
    case "send_email":
      if (!env.MAIL) throw new MailError("MAIL_TRANSPORT=send_email needs the MAIL send_email binding");
      return createSendEmailTransport(env.MAIL, { from: config.MAIL_FROM, now: deps.now });
    case "http":
      if (!config.MAIL_HTTP_ENDPOINT || !config.MAIL_HTTP_API_KEY) {
        throw new MailError("MAIL_TRANSPORT=http needs MAIL_HTTP_ENDPOINT and MAIL_HTTP_API_KEY");
      }
      return createHttpTransport({ endpoint: config.MAIL_HTTP_ENDPOINT, apiKey: config.MAIL_HTTP_API_KEY, from: config.MAIL_FROM, fetch: deps.fetch });
  }
}
