/** Real, minimal files for the upload tests (shared by the files*.test.ts suites). */
import { SELF } from "cloudflare:test";
import { API, randomIp } from "../helpers/auth";

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

/** A 2×2 RGB PNG that image viewers open. */
export const PNG = fromBase64("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==");
/** A one-page PDF with a valid xref table (binary comment line included). */
export const PDF = fromBase64(
  "JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVudCAyIDAgUiAvTWVkaWFCb3ggWzAgMCAyMDAgMjAwXSA+PgplbmRvYmoKeHJlZgowIDQKMDAwMDAwMDAwMCA2NTUzNSBmIAowMDAwMDAwMDE1IDAwMDAwIG4gCjAwMDAwMDAwNjQgMDAwMDAgbiAKMDAwMDAwMDEyMSAwMDAwMCBuIAp0cmFpbGVyCjw8IC9TaXplIDQgL1Jvb3QgMSAwIFIgPj4Kc3RhcnR4cmVmCjE5MgolJUVPRgo=",
);
/** A 1×1 transparent GIF. */
export const GIF = fromBase64("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");
/** UTF-8 text with multi-byte characters. */
export const TEXT = new TextEncoder().encode("Grüße aus Zürich — 你好\nline two\n");
/** The start of a Windows executable. */
export const EXE = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00]);
export const HTML = new TextEncoder().encode("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>");

export interface UploadOptions {
  name?: string;
  type?: string;
  category?: string;
  headers?: Record<string, string>;
}

/** A multipart form with one file part (and an optional category). */
export function uploadForm(bytes: Uint8Array, options: UploadOptions = {}): FormData {
  const form = new FormData();
  form.append("file", new File([bytes], options.name ?? "file.bin", options.type === undefined ? {} : { type: options.type }));
  if (options.category !== undefined) form.append("category", options.category);
  return form;
}

/** POST /api/v1/files as `token` (omitted: anonymous). */
export function upload(token: string | undefined, bytes: Uint8Array, options: UploadOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  headers.set("CF-Connecting-IP", randomIp());
  return SELF.fetch(`${API}/files`, { method: "POST", headers, body: uploadForm(bytes, options) });
}

export async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * A hand-built multipart body, for what FormData cannot send: raw control characters in a file
 * name (FormData percent-escapes CR, LF and quotes), no filename, several file parts.
 */
export function rawMultipart(parts: Array<{ headers: string; body: Uint8Array | string }>): { body: Uint8Array; contentType: string } {
  const boundary = `----files-test-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    chunks.push(encoder.encode(`--${boundary}\r\n${part.headers}\r\n\r\n`));
    chunks.push(typeof part.body === "string" ? encoder.encode(part.body) : part.body);
    chunks.push(encoder.encode("\r\n"));
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  const body = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A file part's headers with `filename` exactly as given (bytes included). */
export const filePart = (filename: string, type = "application/octet-stream") =>
  `Content-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}`;
