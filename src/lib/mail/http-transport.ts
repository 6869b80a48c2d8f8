import { MailError, type MailMessage, type MailTransport } from "./message";
import { assertHeaderSafe, asciiAddress } from "./mime";

export interface HttpTransportOptions {
  /** The API's send endpoint, e.g. `https://api.resend.com/emails` (MAIL_HTTP_ENDPOINT). */
  endpoint: string;
  /** Sent as `Authorization: Bearer <key>` (MAIL_HTTP_API_KEY); never logged or put in errors. */
  apiKey: string;
  /** The configured sender (MAIL_FROM), passed through as the API's `from`. */
  from: string;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Gives up on a hanging API so a background send cannot run until the isolate is evicted. */
  timeoutMs?: number;
}

/**
 * Delivers through an HTTP email API with the widely used Resend-style body
 * `{ from, to: [address], subject, text, html }` (Resend; Postmark, SendGrid and others need only a
 * small adapter). Any non-2xx answer rejects with a `MailError` carrying the status.
 */
export function createHttpTransport(options: HttpTransportOptions): MailTransport {
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async send(message: MailMessage): Promise<void> {
      // The API builds the MIME itself, but a CR/LF in a header value must not reach any API either.
      assertHeaderSafe(options.from, "From");
      assertHeaderSafe(message.subject, "Subject");
      const to = asciiAddress(message.to);
      const body: Record<string, unknown> = { from: options.from, to: [to], subject: message.subject, text: message.text };
      if (message.html !== undefined) body.html = message.html;
      let response: Response;
      try {
        response = await fetchImpl(options.endpoint, {
          method: "POST",
          headers: { Authorization: `Bearer ${options.apiKey}`, "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new MailError(`mail API request failed: ${error instanceof Error ? error.name : "error"}`, { cause: error });
      }
      // Drain the body so the connection can be reused; its content may echo the message, so it is not kept.
      await response.body?.cancel();
      if (!response.ok) throw new MailError(`mail API answered ${response.status}`, { status: response.status });
    },
  };
}
