import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/env";
import { MailError, type MailMessage } from "../../src/lib/mail/message";
import { createSendEmailTransport } from "../../src/lib/mail/send-email-transport";
import { createMailTransport } from "../../src/lib/mail/transport";

/*
 * A fake of Cloudflare's send_email binding that receives the real EmailMessage from
 * "cloudflare:email", reads its raw bytes the way the local simulator does, applies the platform's
 * own checks (a Message-ID, the From header's address equal to the envelope sender, no Received
 * header) and parses the MIME independently of the code under test.
 */

interface ParsedPart {
  headers: Map<string, string>;
  body: string;
}

interface Sent {
  from: string;
  to: string;
  raw: string;
  headers: Map<string, string>;
  parts: ParsedPart[];
}

function unfoldHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n(?=[ \t])/g, "").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`malformed header line: ${line}`);
    const name = line.slice(0, colon).toLowerCase();
    if (headers.has(name)) throw new Error(`duplicate header ${name}`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

/** UTF-8 decoding that fails instead of substituting U+FFFD (no test text contains U+FFFD). */
function strictUtf8(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  expect(text).not.toContain("\uFFFD");
  return text;
}

function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

/** RFC 2047 decoding: whitespace between adjacent encoded words is dropped. */
function decodeHeader(value: string): string {
  return value.replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1").replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, encoding: string, text: string) => {
    expect(charset.toUpperCase()).toBe("UTF-8");
    expect(encoding.toUpperCase()).toBe("B");
    return strictUtf8(decodeBase64(text));
  });
}

/** Strict quoted-printable decoding (RFC 2045 §6.7): fails on anything a conforming encoder never writes. */
function decodeQuotedPrintable(body: string): string {
  for (const line of body.split("\r\n")) {
    expect(line.length).toBeLessThanOrEqual(76);
    expect(line).toMatch(/^([\x21-\x3c\x3e-\x7e \t]|=[0-9A-F]{2})*=?$/);
    expect(line).not.toMatch(/[ \t]$/);
  }
  const bytes: number[] = [];
  const joined = body.replace(/=\r\n/g, "");
  for (let index = 0; index < joined.length; index++) {
    if (joined[index] === "=") {
      bytes.push(Number.parseInt(joined.slice(index + 1, index + 3), 16));
      index += 2;
    } else {
      bytes.push(joined.charCodeAt(index));
    }
  }
  return strictUtf8(Uint8Array.from(bytes));
}

function parsePart(block: string): ParsedPart {
  const split = block.indexOf("\r\n\r\n");
  const headers = unfoldHeaders(block.slice(0, split));
  const encoded = block.slice(split + 4);
  expect(headers.get("content-transfer-encoding")).toBe("quoted-printable");
  expect(headers.get("content-type")).toMatch(/^text\/(plain|html); charset=utf-8$/);
  return { headers, body: decodeQuotedPrintable(encoded.replace(/\r\n$/, "")) };
}

function parseMessage(raw: string): { headers: Map<string, string>; parts: ParsedPart[] } {
  expect(raw).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
  expect(raw).toMatch(/^[\x00-\x7f]*$/);
  for (const line of raw.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
  const split = raw.indexOf("\r\n\r\n");
  const headerBlock = raw.slice(0, split);
  for (const line of headerBlock.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
  const headers = unfoldHeaders(headerBlock);
  const body = raw.slice(split + 4);
  expect(headers.get("mime-version")).toBe("1.0");
  const contentType = headers.get("content-type") ?? "";
  const multipart = /^multipart\/alternative;\s*boundary="([^"]+)"$/.exec(contentType);
  if (!multipart) {
    return { headers, parts: [parsePart(`Content-Type: ${contentType}\r\nContent-Transfer-Encoding: ${headers.get("content-transfer-encoding")}\r\n\r\n${body}`)] };
  }
  const boundary = multipart[1]!;
  const closing = body.indexOf(`\r\n--${boundary}--\r\n`);
  expect(closing).toBeGreaterThan(0);
  const sections = body.slice(0, closing).split(`--${boundary}\r\n`).slice(1);
  return { headers, parts: sections.map((section) => parsePart(section.replace(/\r\n$/, ""))) };
}

class FakeSendEmail {
  readonly sent: Sent[] = [];
  failure: Error | undefined;

  async send(message: EmailMessage): Promise<EmailSendResult> {
    if (this.failure) throw this.failure;
    const rawValue = (message as unknown as Record<string, unknown>)["EmailMessage::raw"];
    expect(rawValue).toBeDefined();
    const raw = await new Response(rawValue as BodyInit).text();
    const { headers, parts } = parseMessage(raw);
    // The platform's own acceptance checks.
    const messageId = headers.get("message-id");
    if (!messageId || !/^<[^<>@\s]+@[^<>@\s]+>$/.test(messageId)) throw new Error("invalid message-id");
    const fromAddress = /<([^<>]+)>$/.exec(headers.get("from") ?? "")?.[1] ?? headers.get("from");
    if (fromAddress !== message.from) throw new Error("From: header does not match mail from");
    if (headers.has("received")) throw new Error("invalid headers set");
    this.sent.push({ from: message.from, to: message.to, raw, headers, parts });
    return { messageId };
  }

  asBinding(): SendEmail {
    return this as unknown as SendEmail;
  }
}

const FIXED_NOW = new Date("2025-03-04T05:06:07.000Z");
const LINK = "https://auth.example.com/reset-password?token=Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA_-&next=%2Fhome%3Fa%3D1";

function message(overrides: Partial<MailMessage> = {}): MailMessage {
  return {
    kind: "password_reset",
    to: "alice@example.com",
    subject: "Reset your password",
    text: `Open this link:\n${LINK}\n\nIt expires in 30 minutes.`,
    html: `<p><a href="${LINK.replaceAll("&", "&#38;")}">Reset</a></p>`,
    ...overrides,
  };
}

describe("send_email transport", () => {
  let fake: FakeSendEmail;
  beforeEach(() => {
    fake = new FakeSendEmail();
  });

  const transport = (from = "Edge Auth <no-reply@example.com>") => createSendEmailTransport(fake.asBinding(), { from, now: () => FIXED_NOW });

  it("sends a complete multipart/alternative message whose link survives the encoding", async () => {
    await transport().send(message());
    expect(fake.sent).toHaveLength(1);
    const [sent] = fake.sent;
    expect(sent!.from).toBe("no-reply@example.com");
    expect(sent!.to).toBe("alice@example.com");
    expect(sent!.headers.get("from")).toBe("Edge Auth <no-reply@example.com>");
    expect(sent!.headers.get("to")).toBe("alice@example.com");
    expect(sent!.headers.get("subject")).toBe("Reset your password");
    expect(sent!.headers.get("date")).toBe("Tue, 04 Mar 2025 05:06:07 +0000");
    expect(new Date(sent!.headers.get("date")!).toISOString()).toBe(FIXED_NOW.toISOString());
    expect(sent!.headers.get("message-id")).toMatch(/^<[0-9a-f]{32}@example\.com>$/);
    expect(sent!.parts.map((part) => part.headers.get("content-type"))).toEqual(["text/plain; charset=utf-8", "text/html; charset=utf-8"]);
    expect(sent!.parts[0]!.body).toBe(message().text.replaceAll("\n", "\r\n"));
    expect(sent!.parts[0]!.body).toContain(LINK);
    expect(sent!.parts[1]!.body).toBe(message().html);
    // The raw link is long and full of "=": it had to be soft-broken and escaped on the wire.
    expect(sent!.raw).not.toContain(LINK);
  });

  it("gives every message its own Message-ID", async () => {
    await transport().send(message());
    await transport().send(message());
    expect(fake.sent[0]!.headers.get("message-id")).not.toBe(fake.sent[1]!.headers.get("message-id"));
  });

  it("encodes a non-ASCII subject and display name with RFC 2047, folded under 78 characters", async () => {
    const subject = "Grüße aus Zürich – bitte bestätigen Sie Ihre E-Mail-Adresse für das Konto 🔐 (ein sehr langer Betreff)";
    await transport("Édge Äuth <no-reply@example.com>").send(message({ subject }));
    const [sent] = fake.sent;
    expect(sent!.raw).toMatch(/^Subject: =\?UTF-8\?B\?/m);
    expect(decodeHeader(sent!.headers.get("subject")!)).toBe(subject);
    expect(decodeHeader(sent!.headers.get("from")!)).toBe("Édge Äuth <no-reply@example.com>");
    for (const word of sent!.raw.match(/=\?[^?]+\?B\?[^?]*\?=/g) ?? []) expect(word.length).toBeLessThanOrEqual(75);
  });

  it("folds a long ASCII subject without changing it", async () => {
    const subject = Array.from({ length: 20 }, (_, index) => `word${index}`).join(" ");
    await transport().send(message({ subject }));
    expect(fake.sent[0]!.raw).toMatch(/^Subject: .*\r\n [^\r\n]+/m);
    expect(fake.sent[0]!.headers.get("subject")).toBe(subject);
  });

  it("quotes a display name with specials", async () => {
    await transport('"Edge, Auth" <no-reply@example.com>').send(message());
    expect(fake.sent[0]!.headers.get("from")).toBe('"Edge, Auth" <no-reply@example.com>');
  });

  it("sends a single text/plain part when there is no HTML, keeping tricky lines intact", async () => {
    const text = `.starts with a dot\nends with a space \ntab\there = equals\n${"x".repeat(200)}\nEmoji 🎉 and ümlauts\n`;
    await transport().send(message({ html: undefined, text }));
    const [sent] = fake.sent;
    expect(sent!.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(sent!.parts).toHaveLength(1);
    expect(sent!.parts[0]!.body).toBe(text.replaceAll("\n", "\r\n"));
  });

  it("converts an internationalized recipient domain to punycode", async () => {
    await transport().send(message({ to: "anna@bücher.example" }));
    expect(fake.sent[0]!.to).toBe("anna@xn--bcher-kva.example");
    expect(fake.sent[0]!.headers.get("to")).toBe("anna@xn--bcher-kva.example");
  });

  it.each([
    ["a CR/LF in the subject", { subject: "Hello\r\nBcc: victim@example.com" }],
    ["a bare LF in the subject", { subject: "Hello\nBcc: victim@example.com" }],
    ["a LF in the recipient", { to: "alice@example.com\nBcc: victim@example.com" }],
    ["a second address in the recipient", { to: "alice@example.com, bob@example.com" }],
    ["a non-ASCII local part", { to: "ünicode@example.com" }],
    ["a recipient without a domain", { to: "alice@" }],
    ["an IP-literal-like domain", { to: "alice@1.2.3.4" }],
  ])("refuses %s before anything is sent", async (_, overrides) => {
    await expect(transport().send(message(overrides))).rejects.toBeInstanceOf(MailError);
    expect(fake.sent).toHaveLength(0);
  });

  it("refuses a sender with a line break", () => {
    expect(() => transport("Edge <no-reply@example.com>\r\nBcc: victim@example.com")).toThrow(MailError);
  });

  it("reports a refusal of the binding as a MailError", async () => {
    fake.failure = new Error("destination address not verified");
    const failure = transport().send(message());
    await expect(failure).rejects.toBeInstanceOf(MailError);
    await expect(failure).rejects.toThrow(/destination address not verified/);
  });

  it("is what createMailTransport picks for MAIL_TRANSPORT=send_email", async () => {
    const loaded = parseConfig({ ...env, MAIL_TRANSPORT: "send_email", MAIL_FROM: "Accounts <accounts@example.org>" });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    await createMailTransport({ ...env, MAIL: fake.asBinding() }, loaded.config, { now: () => FIXED_NOW }).send(message());
    expect(fake.sent[0]!.from).toBe("accounts@example.org");
    expect(fake.sent[0]!.headers.get("from")).toBe("Accounts <accounts@example.org>");
  });

  it("fails clearly when the MAIL binding is missing", () => {
    const loaded = parseConfig({ ...env, MAIL_TRANSPORT: "send_email" });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    expect(() => createMailTransport({ ...env, MAIL: undefined }, loaded.config)).toThrow(/MAIL send_email binding/);
  });
});
