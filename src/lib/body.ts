/** Reading request bodies under a byte limit, whatever the Content-Length says. */

/**
 * How much beyond the limit an over-limit body is read and thrown away before the stream is
 * cancelled. Small: this runs before any rate limit, so it must not be a way to make us read
 * (and pay for) tens of megabytes per request.
 */
const DRAIN_EXTRA_BYTES = 1_048_576;

export type LimitedBody = { ok: true; bytes: Uint8Array } | { ok: false };

/**
 * Reads a whole body, refusing it once more than `maxBytes` arrived. A refused body is drained
 * (up to a ceiling) rather than abandoned: workerd and `wrangler dev` can fail the next request on
 * a connection whose request body was left half read.
 */
export async function readBodyWithLimit(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<LimitedBody> {
  if (!body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) over = true;
    if (over) {
      if (total > maxBytes + DRAIN_EXTRA_BYTES) {
        await reader.cancel();
        break;
      }
      continue;
    }
    chunks.push(value);
  }
  if (over) return { ok: false };
  return { ok: true, bytes: concat(chunks, total) };
}

/** Throws away whatever is left of a body (bounded), so the connection stays usable. */
export async function drainBody(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body || body.locked) return;
  await readBodyWithLimit(body, 0);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
