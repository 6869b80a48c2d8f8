/**
 * What an upload is, decided from its bytes: magic numbers for binary formats, strict UTF-8 for
 * text. The file name's extension and the declared part type must agree with that decision; the
 * extension is never trusted on its own (the old service served whatever a `.png` contained).
 */
import { ProblemError } from "../../lib/problem";

interface FileType {
  extensions: readonly string[];
  /** UTF-8 text whose exact type only the extension can tell (no magic number). */
  text: boolean;
  /** Other names clients declare for it (Windows sends application/vnd.ms-excel for .csv). */
  aliases: readonly string[];
}

/** Every type the service can recognize, hence the most UPLOAD_ALLOWED_TYPES can enable. */
export const FILE_TYPES = {
  "text/plain": { extensions: ["txt", "text", "log"], text: true, aliases: [] },
  "text/markdown": { extensions: ["md", "markdown"], text: true, aliases: ["text/x-markdown"] },
  "text/csv": {
    extensions: ["csv"],
    text: true,
    aliases: ["application/csv", "text/x-csv", "text/comma-separated-values", "application/vnd.ms-excel"],
  },
  "application/json": { extensions: ["json"], text: true, aliases: ["text/json"] },
  "application/pdf": { extensions: ["pdf"], text: false, aliases: ["application/x-pdf"] },
  "image/png": { extensions: ["png"], text: false, aliases: [] },
  "image/jpeg": { extensions: ["jpg", "jpeg"], text: false, aliases: ["image/jpg", "image/pjpeg"] },
  "image/gif": { extensions: ["gif"], text: false, aliases: [] },
  "image/webp": { extensions: ["webp"], text: false, aliases: [] },
} as const satisfies Record<string, FileType>;

export type FileMediaType = keyof typeof FILE_TYPES;
const KNOWN_TYPES = Object.keys(FILE_TYPES) as FileMediaType[];
const isKnownType = (value: string): value is FileMediaType => Object.hasOwn(FILE_TYPES, value);

/** Whether a stored type is UTF-8 text (served with `charset=utf-8`). */
export function isTextType(mediaType: string): boolean {
  return isKnownType(mediaType) && FILE_TYPES[mediaType].text;
}

/**
 * The types uploads may have: UPLOAD_ALLOWED_TYPES when set, else all of FILE_TYPES. Entries the
 * service cannot recognize (text/html, image/svg+xml...) are ignored: enabling a type that cannot
 * be verified would mean trusting the extension again.
 */
export function allowedTypes(configured: readonly string[]): FileMediaType[] {
  if (configured.length === 0) return KNOWN_TYPES;
  const wanted = new Set(configured.map((type) => type.toLowerCase()));
  return KNOWN_TYPES.filter((type) => wanted.has(type));
}

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((byte, index) => bytes[offset + index] === byte);
const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));

/** Binary signatures: what we accept, and what we name in order to refuse it clearly. */
const SIGNATURES: ReadonlyArray<{ type: string; bytes: readonly number[]; offset?: number }> = [
  { type: "image/png", bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: "image/jpeg", bytes: [0xff, 0xd8, 0xff] },
  { type: "image/gif", bytes: ascii("GIF87a") },
  { type: "image/gif", bytes: ascii("GIF89a") },
  { type: "application/pdf", bytes: ascii("%PDF-") },
  { type: "application/x-msdownload", bytes: ascii("MZ") },
  { type: "application/x-executable", bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { type: "application/x-mach-binary", bytes: [0xcf, 0xfa, 0xed, 0xfe] },
  { type: "application/x-mach-binary", bytes: [0xce, 0xfa, 0xed, 0xfe] },
  { type: "application/x-mach-binary", bytes: [0xfe, 0xed, 0xfa, 0xcf] },
  { type: "application/x-mach-binary", bytes: [0xfe, 0xed, 0xfa, 0xce] },
  { type: "application/java-vm", bytes: [0xca, 0xfe, 0xba, 0xbe] },
  { type: "application/wasm", bytes: [0x00, 0x61, 0x73, 0x6d] },
  { type: "application/zip", bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: "application/zip", bytes: [0x50, 0x4b, 0x05, 0x06] },
  { type: "application/gzip", bytes: [0x1f, 0x8b] },
  { type: "application/x-7z-compressed", bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { type: "application/vnd.rar", bytes: ascii("Rar!\x1a\x07") },
  { type: "application/x-xz", bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { type: "application/x-bzip2", bytes: ascii("BZh") },
  { type: "application/x-tar", bytes: ascii("ustar"), offset: 257 },
];

/*
 * The starts of text that browsers sniff as HTML or XML (WHATWG MIME Sniffing §7.1), plus
 * shebang scripts. Served bytes cannot execute (nosniff, sandbox CSP, attachment), but refusing
 * them keeps HTML, SVG and scripts out of storage altogether, as the allowlist promises.
 */
const HTML_TAGS = ["!doctype html", "html", "head", "script", "iframe", "h1", "div", "font", "table", "a", "style", "title", "b", "body", "br", "p"];

function markupType(text: string): string | null {
  const start = text.replace(/^\uFEFF/, "").trimStart().slice(0, 512).toLowerCase();
  if (start.startsWith("#!")) return "text/x-script";
  if (start.startsWith("<!--")) return "text/html";
  if (start.startsWith("<?xml")) return start.includes("<svg") ? "image/svg+xml" : "application/xml";
  if (start.startsWith("<svg")) return "image/svg+xml";
  for (const tag of HTML_TAGS) {
    const next = start.charAt(tag.length + 1);
    if (start.startsWith(`<${tag}`) && (next === " " || next === ">" || next === "\t" || next === "\n" || next === "\r" || next === "/")) return "text/html";
  }
  return null;
}

/** The result of looking at the bytes alone. */
export type Sniffed = { kind: "binary"; type: string } | { kind: "text"; text: string } | { kind: "refused"; type: string };

/** Decides what `bytes` are, without looking at any name or declared type. */
export function sniffContent(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return { kind: "binary", type: "image/webp" };
  for (const signature of SIGNATURES) {
    if (startsWith(bytes, signature.bytes, signature.offset)) {
      return isKnownType(signature.type) ? { kind: "binary", type: signature.type } : { kind: "refused", type: signature.type };
    }
  }
  if (bytes.includes(0)) return { kind: "refused", type: "application/octet-stream" };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { kind: "refused", type: "application/octet-stream" };
  }
  const markup = markupType(text);
  return markup ? { kind: "refused", type: markup } : { kind: "text", text };
}

/** The extension (lower case, without the dot) of a sanitized name; null when there is none. */
export function extensionOf(name: string): string | null {
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : null;
}

function unsupported(detail: string, extensions: Record<string, unknown>, allowed: readonly string[]): ProblemError {
  return new ProblemError("unsupported_media_type", { detail, extensions: { ...extensions, allowed_types: allowed } });
}

/** The media type part of a Content-Type, lower case; null when absent or meaningless. */
function declaredEssence(declared: string): string | null {
  const essence = declared.split(";")[0]!.trim().toLowerCase();
  return essence === "" || essence === "application/octet-stream" ? null : essence.slice(0, 100);
}

/**
 * The media type to store for an upload, or a 415 problem: the content decides, the extension
 * must name the same type (for text, it picks which text type), the declared type, when the
 * client sent a meaningful one, must agree, and the result must be allowed.
 *
 * @example classifyUpload({ bytes, name: "photo.png", declaredType: "image/png" }, allowedTypes([])) // "image/png"
 */
export function classifyUpload(input: { bytes: Uint8Array; name: string; declaredType: string }, allowed: readonly FileMediaType[]): FileMediaType {
  const sniffed = sniffContent(input.bytes);
  const extension = extensionOf(input.name);
  const declared = declaredEssence(input.declaredType);
  const facts = { detected_type: sniffed.kind === "text" ? "text/plain" : sniffed.type, extension, declared_type: declared };
  if (sniffed.kind === "refused") {
    throw unsupported(`The content is ${sniffed.type}, which is not accepted.`, facts, allowed);
  }
  if (!extension) throw unsupported("The file name needs an extension that matches its content.", facts, allowed);
  const byExtension = KNOWN_TYPES.find((type) => (FILE_TYPES[type].extensions as readonly string[]).includes(extension));
  if (!byExtension) throw unsupported(`Files named .${extension} are not accepted.`, facts, allowed);

  const type: FileMediaType = byExtension;
  if (sniffed.kind === "text" ? !FILE_TYPES[type].text : sniffed.type !== type) {
    throw unsupported(`The content is ${facts.detected_type} but the name says .${extension}.`, facts, allowed);
  }
  if (!allowed.includes(type)) throw unsupported(`${type} uploads are not accepted.`, facts, allowed);
  if (declared !== null && declared !== type && !(FILE_TYPES[type].aliases as readonly string[]).includes(declared)) {
    // A text file declared as text/plain is a generalization, not a contradiction.
    if (!(FILE_TYPES[type].text && declared === "text/plain")) {
      throw unsupported(`The declared type ${declared} does not match the content (${type}).`, facts, allowed);
    }
  }
  if (type === "application/json" && sniffed.kind === "text") {
    try {
      JSON.parse(sniffed.text);
    } catch {
      throw unsupported("The content is not valid JSON.", { ...facts, detected_type: "text/plain" }, allowed);
    }
  }
  return type;
}

const MAX_NAME_BYTES = 255;
/** Separators, including the lookalikes that NFKC folds into them (fullwidth solidus...). */
const SEPARATORS = /[/\\]/;
/** C0/C1 controls, DEL, line/paragraph separators, bidi controls (used to disguise `exe.png` as `gnp.exe`). */
const FORBIDDEN_CHARACTERS = /[\p{Cc}\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]/u;

/**
 * The display name to store: NFC-normalized, trimmed, without a leading dot, at most 255 UTF-8
 * bytes (the stem is shortened, the extension kept). Names with path separators, a leading `..`,
 * control or bidi characters are refused (422), not repaired: such a name is an attack, not a typo.
 */
export function sanitizeFileName(raw: string): string {
  const invalid = (detail: string) =>
    new ProblemError("validation_failed", { detail, errors: [{ path: "body.file", message: detail }] });
  const name = raw.normalize("NFC");
  if (SEPARATORS.test(name) || SEPARATORS.test(name.normalize("NFKC"))) throw invalid("The file name must not contain path separators.");
  if (FORBIDDEN_CHARACTERS.test(name) || !(name as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw invalid("The file name must not contain control characters.");
  }
  // `..` at the start is a traversal attempt even without separators (multipart unescapes `..\\..` to `....`).
  if (name.trimStart().startsWith("..")) throw invalid("The file name must not start with `..`.");
  const cleaned = name.trim().replace(/^[.\s]+/, "").replace(/[.\s]+$/, "");
  if (cleaned === "") throw invalid("The file name is empty.");
  return truncateName(cleaned);
}

function truncateName(name: string): string {
  const encoder = new TextEncoder();
  if (encoder.encode(name).byteLength <= MAX_NAME_BYTES) return name;
  const extension = extensionOf(name);
  const suffix = extension && extension.length <= 16 ? `.${name.slice(name.length - extension.length)}` : "";
  let budget = MAX_NAME_BYTES - encoder.encode(suffix).byteLength;
  let stem = "";
  // Whole code points only, so a multi-byte character is never cut in half.
  for (const char of name.slice(0, name.length - suffix.length)) {
    const size = encoder.encode(char).byteLength;
    if (size > budget) break;
    budget -= size;
    stem += char;
  }
  return `${stem.trimEnd()}${suffix}`;
}
