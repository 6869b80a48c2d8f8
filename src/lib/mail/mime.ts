/**
 * RFC 5322 / MIME (RFC 2045-2047) message building for transports that hand over a raw message.
 * Everything is 7-bit clean with CRLF line endings, so no relay needs to re-encode it.
 */
import { MailError } from "./message";

const CRLF = "\r\n";
/** RFC 5322 §2.1.1: lines SHOULD stay within 78 characters; RFC 2045 caps encoded lines at 76. */
const HEADER_LINE = 78;
const QP_LINE = 76;
/**
 * 42 UTF-8 bytes are 56 base64 characters: an encoded word of 68 (RFC 2047 allows 75), so even
 * the first word after "Subject: " keeps the line within 78.
 */
const WORD_BYTES = 42;

const encoder = new TextEncoder();

export interface Mailbox {
  /** The display name, e.g. "Edge Auth"; may contain any Unicode. */
  name?: string;
  /** A plain addr-spec, e.g. "no-reply@example.com". */
  address: string;
}

/** Refuses a header value that could end its header and start another (header injection). */
export function assertHeaderSafe(value: string, field: string): void {
  if (/[\r\n\0]/.test(value)) throw new MailError(`${field} contains a line break or NUL character`);
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** Letters of any script, digits, hyphens and dots: what a domain may be before punycode. */
const UNICODE_DOMAIN = /^[\p{L}\p{M}\p{N}.-]+$/u;
/** An ASCII hostname with a top-level label that is alphabetic or punycode (never an IP). */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * Validates an address for an SMTP envelope and header, converting an internationalized domain to
 * its ASCII (punycode) form. A non-ASCII local part would need SMTPUTF8, which is not assumed.
 *
 * @example asciiAddress("anna@bücher.example") // "anna@xn--bcher-kva.example"
 */
export function asciiAddress(address: string): string {
  assertHeaderSafe(address, "address");
  const at = address.lastIndexOf("@");
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (at <= 0 || local.length > 64 || !LOCAL_PART.test(local)) throw new MailError("address has an unsupported local part");
  let asciiDomain = "";
  if (UNICODE_DOMAIN.test(domain)) {
    try {
      asciiDomain = new URL(`http://${domain}/`).hostname;
    } catch {
      // Reported below as an invalid domain.
    }
  }
  if (!HOSTNAME.test(asciiDomain)) throw new MailError("address has an invalid domain");
  return `${local}@${asciiDomain}`;
}

/**
 * Reads a configured sender such as `Edge Auth <no-reply@example.com>` or `no-reply@example.com`.
 *
 * @example parseMailbox('"Edge Auth" <no-reply@example.com>') // { name: "Edge Auth", address: "no-reply@example.com" }
 */
export function parseMailbox(input: string): Mailbox {
  assertHeaderSafe(input, "From");
  const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(input);
  if (!match) return { address: asciiAddress(input.trim()) };
  let name = match[1] ?? "";
  if (name.startsWith('"') && name.endsWith('"') && name.length >= 2) name = name.slice(1, -1).replace(/\\(.)/g, "$1");
  return name === "" ? { address: asciiAddress(match[2]!.trim()) } : { name, address: asciiAddress(match[2]!.trim()) };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** RFC 2047 "B" encoded words, each at most 75 characters, never splitting a character. */
function encodedWords(text: string): string[] {
  const words: string[] = [];
  let chunk: number[] = [];
  for (const character of text) {
    const bytes = encoder.encode(character);
    if (chunk.length + bytes.length > WORD_BYTES) {
      words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length > 0 || words.length === 0) words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
  return words;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Joins header tokens into `Name: value`, folding with CRLF + space before a line grows too long. */
function foldHeader(name: string, tokens: string[]): string {
  let line = `${name}:`;
  const lines: string[] = [];
  for (const token of tokens) {
    // Never fold before an empty token: a continuation line of only whitespace is obsolete syntax.
    if (token !== "" && line.length + 1 + token.length > HEADER_LINE && line.length > name.length + 1) {
      lines.push(line);
      line = "";
    }
    line += ` ${token}`;
  }
  lines.push(line);
  return lines.join(CRLF);
}

/**
 * An unstructured header (Subject): plain when it is printable ASCII, RFC 2047 encoded otherwise.
 *
 * @example encodeUnstructuredHeader("Subject", "Grüße") // "Subject: =?UTF-8?B?R3LDvMOfZQ==?="
 */
export function encodeUnstructuredHeader(name: string, value: string): string {
  assertHeaderSafe(value, name);
  // Words that look like encoded words must be encoded themselves, or a reader would decode them.
  if (PRINTABLE_ASCII.test(value) && !value.includes("=?")) {
    const words = value.split(" ");
    if (words.every((word) => word.length <= 900)) return foldHeader(name, words.length > 0 ? words : [""]).replace(/: $/, ":");
  }
  return foldHeader(name, encodedWords(value));
}

/** A mailbox for From/To: the display name quoted or encoded as needed. */
export function formatMailbox(mailbox: Mailbox): string {
  const address = asciiAddress(mailbox.address);
  if (!mailbox.name) return address;
  assertHeaderSafe(mailbox.name, "display name");
  if (!PRINTABLE_ASCII.test(mailbox.name) || mailbox.name.includes("=?")) return `${encodedWords(mailbox.name).join(" ")} <${address}>`;
  if (/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$/.test(mailbox.name)) return `${mailbox.name} <${address}>`;
  return `"${mailbox.name.replace(/(["\\])/g, "\\$1")}" <${address}>`;
}

/**
 * Quoted-printable (RFC 2045 §6.7) of UTF-8 text: line breaks become CRLF, lines stay within
 * 76 characters through soft breaks, and a dot starting a line is encoded so no relay's
 * dot-stuffing can alter it.
 */
export function encodeQuotedPrintable(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, "\n")
    .split("\n")
    .map((line) => {
      const bytes = encoder.encode(line);
      const output: string[] = [];
      let current = "";
      bytes.forEach((byte, index) => {
        const atEnd = index === bytes.length - 1;
        const literal = (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !atEnd);
        let token = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
        if (current.length + token.length > QP_LINE - 1) {
          output.push(`${current}=`);
          current = "";
        }
        if (current === "" && token === ".") token = "=2E";
        current += token;
      });
      output.push(current);
      return output.join(CRLF);
    })
    .join(CRLF);
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 §3.3 date-time in UTC, e.g. "Tue, 05 Mar 2024 09:04:00 +0000". */
export function formatMailDate(date: Date): string {
  const two = (value: number) => String(value).padStart(2, "0");
  return (
    `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

export interface MimeInput {
  from: Mailbox;
  to: string;
  subject: string;
  text: string;
  html?: string;
  date: Date;
}

export interface MimeMessage {
  /** The complete message, CRLF line endings, 7-bit. */
  raw: string;
  /** The bare sender address, for the SMTP envelope (must equal the From header's address). */
  envelopeFrom: string;
  /** The bare recipient address, for the SMTP envelope. */
  envelopeTo: string;
  messageId: string;
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function textPart(contentType: string, body: string): string[] {
  return [`Content-Type: ${contentType}; charset=utf-8`, "Content-Transfer-Encoding: quoted-printable", "", encodeQuotedPrintable(body)];
}

/**
 * Builds the raw message: From, To, Subject, Date, Message-ID, MIME-Version, and a text/plain
 * body or a multipart/alternative of text and HTML, both quoted-printable. Throws `MailError` on
 * any CR/LF in a header value or an address it cannot send to.
 */
export function buildMimeMessage(input: MimeInput): MimeMessage {
  const envelopeFrom = asciiAddress(input.from.address);
  const envelopeTo = asciiAddress(input.to);
  const messageId = `<${randomHex(16)}@${envelopeFrom.slice(envelopeFrom.lastIndexOf("@") + 1)}>`;
  const headers = [
    `From: ${formatMailbox(input.from)}`,
    `To: ${envelopeTo}`,
    encodeUnstructuredHeader("Subject", input.subject),
    `Date: ${formatMailDate(input.date)}`,
    `Message-ID: ${messageId}`,
    "MIME-Version: 1.0",
    // RFC 3834: tells auto-responders not to answer a machine-sent message.
    "Auto-Submitted: auto-generated",
  ];
  let body: string[];
  if (input.html === undefined) {
    const [contentType, transferEncoding, , encoded] = textPart("text/plain", input.text);
    headers.push(contentType!, transferEncoding!);
    body = [encoded!];
  } else {
    // "=_" never occurs in quoted-printable output, so the boundary cannot collide with a body.
    const boundary = `=_${randomHex(16)}`;
    headers.push(`Content-Type: multipart/alternative;${CRLF} boundary="${boundary}"`);
    body = [
      "This is a multipart message in MIME format.",
      `--${boundary}`,
      ...textPart("text/plain", input.text),
      `--${boundary}`,
      ...textPart("text/html", input.html),
      `--${boundary}--`,
    ];
  }
  const raw = [...headers, "", ...body, ""].join(CRLF);
  return { raw, envelopeFrom, envelopeTo, messageId };
}
