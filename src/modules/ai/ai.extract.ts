/**
 * Text out of an upload, and that text cut into passages. PDF goes through unpdf (pdf.js built
 * for serverless runtimes: no worker thread, no canvas, no eval), which runs in workerd.
 */

/** Upload types that can be indexed. */
export const INDEXABLE_TYPES = ["text/plain", "text/markdown", "text/csv", "application/json", "application/pdf"] as const;

/** Extraction problems that retrying cannot fix: the document fails at once. */
export class UnindexableError extends Error {
  override name = "UnindexableError";
}

export const MAX_EXTRACTED_CHARS = 2_000_000;

export async function extractText(bytes: Uint8Array, contentType: string): Promise<string> {
  let text: string;
  if (contentType === "application/pdf") {
    const { extractText: extractPdf, getDocumentProxy } = await import("unpdf");
    let pdf;
    try {
      pdf = await getDocumentProxy(bytes);
    } catch (error) {
      throw new UnindexableError(`the PDF cannot be read (${error instanceof Error ? error.message : "unknown error"})`);
    }
    text = (await extractPdf(pdf, { mergePages: true })).text;
  } else if (contentType === "application/json") {
    const raw = new TextDecoder().decode(bytes);
    try {
      // Pretty-printed, so keys and values fall into readable passages.
      text = JSON.stringify(JSON.parse(raw), null, 1);
    } catch {
      text = raw;
    }
  } else if ((INDEXABLE_TYPES as readonly string[]).includes(contentType)) {
    text = new TextDecoder().decode(bytes);
  } else {
    throw new UnindexableError(`files of type ${contentType} cannot be indexed`);
  }
  text = text.replace(/\r\n?/g, "\n").replace(/[ \t]+/g, " ").trim();
  if (!text) throw new UnindexableError("the file contains no text");
  if (text.length > MAX_EXTRACTED_CHARS) throw new UnindexableError(`the text is longer than ${MAX_EXTRACTED_CHARS} characters`);
  return text;
}

const TARGET = 900;
const OVERLAP = 150;

/**
 * Passages of about TARGET characters along paragraph and sentence boundaries, each starting
 * with the last OVERLAP characters of the one before, so a fact split by a boundary is still
 * found whole in one passage.
 */
export function chunkText(text: string): string[] {
  const pieces = text.split(/\n{2,}|(?<=[.!?。！？])\s+/).flatMap((piece) => {
    const out: string[] = [];
    for (let start = 0; start < piece.length; start += TARGET) out.push(piece.slice(start, start + TARGET));
    return out;
  });
  const chunks: string[] = [];
  let current = "";
  for (const piece of pieces) {
    if (current && current.length + piece.length + 1 > TARGET) {
      chunks.push(current.trim());
      const tail = current.slice(-OVERLAP);
      current = tail.slice(tail.indexOf(" ") + 1);
    }
    current = current ? `${current} ${piece}` : piece;
  }
  if (current.trim()) chunks.push(current.trim());
  return chunks;
}
