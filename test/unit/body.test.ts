import { describe, expect, it } from "vitest";
import { drainBody, readBodyWithLimit } from "../../src/lib/body";

function streamOf(chunks: number[], counter?: { pulled: number; cancelled: boolean }): ReadableStream<Uint8Array> {
  const queue = [...chunks];
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = queue.shift();
      if (size === undefined) return controller.close();
      if (counter) counter.pulled += size;
      controller.enqueue(new Uint8Array(size).fill(1));
    },
    cancel() {
      if (counter) counter.cancelled = true;
    },
  });
}

describe("readBodyWithLimit", () => {
  it("reads no body as empty", async () => {
    const result = await readBodyWithLimit(null, 10);
    expect(result).toEqual({ ok: true, bytes: new Uint8Array(0) });
  });

  it("concatenates chunks under the limit in order", async () => {
    const encoder = new TextEncoder();
    const parts = ["hel", "lo ", "world"];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(encoder.encode(part));
      },
    });
    const result = await readBodyWithLimit(stream, 100);
    expect(result.ok && new TextDecoder().decode(result.bytes)).toBe("hello world");
  });

  it("accepts exactly the limit and refuses one byte more", async () => {
    expect((await readBodyWithLimit(streamOf([4, 6]), 10)).ok).toBe(true);
    expect(await readBodyWithLimit(streamOf([4, 7]), 10)).toEqual({ ok: false });
  });

  it("drains an over-limit body to its end so the connection stays usable", async () => {
    const counter = { pulled: 0, cancelled: false };
    expect(await readBodyWithLimit(streamOf([8, 8, 8, 8], counter), 10)).toEqual({ ok: false });
    expect(counter.pulled).toBe(32);
    expect(counter.cancelled).toBe(false);
  });

  it("cancels instead of draining more than 1 MiB past the limit (this runs before any rate limit)", async () => {
    const counter = { pulled: 0, cancelled: false };
    const mib = 1_048_576;
    const chunks = Array.from({ length: 80 }, () => mib);
    expect(await readBodyWithLimit(streamOf(chunks, counter), 10)).toEqual({ ok: false });
    expect(counter.cancelled).toBe(true);
    // One chunk crosses the limit, the next one crosses limit + 1 MiB; the stream may have pulled
    // one more ahead of the reader. Nothing near the 80 MiB sent.
    expect(counter.pulled).toBeLessThanOrEqual(3 * mib);
  });
});

describe("drainBody", () => {
  it("reads a body to its end", async () => {
    const counter = { pulled: 0, cancelled: false };
    await drainBody(streamOf([5, 5], counter));
    expect(counter.pulled).toBe(10);
  });

  it("leaves a missing or locked body alone", async () => {
    await expect(drainBody(null)).resolves.toBeUndefined();
    const counter = { pulled: 0, cancelled: false };
    const stream = streamOf([5], counter);
    const reader = stream.getReader();
    await drainBody(stream);
    reader.releaseLock();
    expect(counter.cancelled).toBe(false);
  });
});
