import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/env";
import { createHttpTransport } from "../../src/lib/mail/http-transport";
import { MailError, type MailMessage } from "../../src/lib/mail/message";
import { createMailTransport } from "../../src/lib/mail/transport";

const API_KEY = "re_test_4f9c2b7d1e8a6f3c0b5d9e2a7c4f1b8d";
const ENDPOINT = "https://api.mail.example/emails";

interface Recorded {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
}

/** Records each request as the API would receive it and answers with the configured response. */
function fakeFetch(answer: () => Response | Promise<Response> = () => Response.json({ id: "msg_1" })) {
  const requests: Recorded[] = [];
  const fetchFake = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ url: request.url, method: request.method, headers: request.headers, body: await request.json() });
    return answer();
  }) as typeof fetch;
  return { fetch: fetchFake, requests };
}

const message: MailMessage = {
  kind: "verify_email",
  to: "alice@example.com",
  subject: "Confirm your email address",
  text: "Open https://auth.example.com/verify-email?token=abc",
  html: '<a href="https://auth.example.com/verify-email?token=abc">Confirm</a>',
};

const transport = (fake: ReturnType<typeof fakeFetch>) =>
  createHttpTransport({ endpoint: ENDPOINT, apiKey: API_KEY, from: "Edge Auth <no-reply@example.com>", fetch: fake.fetch });

describe("http mail transport", () => {
  it("posts a Resend-style JSON body with the bearer key", async () => {
    const fake = fakeFetch();
    await transport(fake).send(message);
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.url).toBe(ENDPOINT);
    expect(request!.method).toBe("POST");
    expect(request!.headers.get("authorization")).toBe(`Bearer ${API_KEY}`);
    expect(request!.headers.get("content-type")).toBe("application/json");
    expect(request!.body).toEqual({
      from: "Edge Auth <no-reply@example.com>",
      to: ["alice@example.com"],
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
  });

  it("leaves out html when the message has none", async () => {
    const fake = fakeFetch();
    await transport(fake).send({ ...message, html: undefined });
    expect(fake.requests[0]!.body).not.toHaveProperty("html");
  });

  it.each([401, 422, 429, 500])("rejects a %i answer with its status and without the key", async (status) => {
    const fake = fakeFetch(() => Response.json({ message: "nope" }, { status }));
    const error = await transport(fake).send(message).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).status).toBe(status);
    expect((error as MailError).message).toContain(String(status));
    expect((error as MailError).message).not.toContain(API_KEY);
  });

  it("rejects a network failure as a MailError without the key", async () => {
    const fake = fakeFetch(() => {
      throw new TypeError(`connect failed (${API_KEY})`);
    });
    const error = await transport(fake).send(message).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).message).not.toContain(API_KEY);
  });

  it("refuses a line break in the subject before calling the API", async () => {
    const fake = fakeFetch();
    await expect(transport(fake).send({ ...message, subject: "Hi\r\nBcc: victim@example.com" })).rejects.toBeInstanceOf(MailError);
    await expect(transport(fake).send({ ...message, to: "alice@example.com\nbob@example.com" })).rejects.toBeInstanceOf(MailError);
    expect(fake.requests).toHaveLength(0);
  });

  it("is what createMailTransport picks for MAIL_TRANSPORT=http", async () => {
    const loaded = parseConfig({ ...env, MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: ENDPOINT, MAIL_HTTP_API_KEY: API_KEY });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    const fake = fakeFetch();
    await createMailTransport(env, loaded.config, { fetch: fake.fetch }).send(message);
    expect(fake.requests[0]!.url).toBe(ENDPOINT);
    expect(fake.requests[0]!.headers.get("authorization")).toBe(`Bearer ${API_KEY}`);
  });

  it("fails clearly without endpoint or key", () => {
    const loaded = parseConfig({ ...env, MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: ENDPOINT });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    expect(() => createMailTransport(env, loaded.config)).toThrow(/MAIL_HTTP_API_KEY/);
  });
});
