import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config";
import { parseConfig } from "../../src/env";
import { ProblemError } from "../../src/lib/problem";
import { createDownloadLink, verifyDownloadLink } from "../../src/modules/files/files.links";
import { contentDisposition, parseRange } from "../../src/modules/files/files.serve";
import { allowedTypes, classifyUpload, extensionOf, sanitizeFileName, sniffContent } from "../../src/modules/files/files.validation";
import { EXE, GIF, HTML, PDF, PNG, TEXT } from "../integration/files-fixtures";

const encode = (text: string) => new TextEncoder().encode(text);
const ALL = allowedTypes([]);

function problemOf(run: () => unknown): ProblemError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error("expected a ProblemError");
}

describe("sniffContent", () => {
  it.each([
    ["PNG", PNG, { kind: "binary", type: "image/png" }],
    ["PDF", PDF, { kind: "binary", type: "application/pdf" }],
    ["GIF", GIF, { kind: "binary", type: "image/gif" }],
    ["JPEG", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), { kind: "binary", type: "image/jpeg" }],
    ["WebP", encode("RIFF\u0000\u0000\u0000\u0000WEBPVP8 "), { kind: "binary", type: "image/webp" }],
    ["a PE executable", EXE, { kind: "refused", type: "application/x-msdownload" }],
    ["ELF", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), { kind: "refused", type: "application/x-executable" }],
    ["gzip", new Uint8Array([0x1f, 0x8b, 8, 0]), { kind: "refused", type: "application/gzip" }],
    ["HTML", HTML, { kind: "refused", type: "text/html" }],
    ["HTML after a BOM and blank lines", encode("\uFEFF\n\n  <html lang=en>"), { kind: "refused", type: "text/html" }],
    ["an HTML comment", encode("<!-- hi --><p>x</p>"), { kind: "refused", type: "text/html" }],
    ["SVG", encode("<svg xmlns='http://www.w3.org/2000/svg'/>"), { kind: "refused", type: "image/svg+xml" }],
    ["XML", encode("<?xml version='1.0'?><root/>"), { kind: "refused", type: "application/xml" }],
    ["a NUL byte", encode("a\u0000b"), { kind: "refused", type: "application/octet-stream" }],
    ["invalid UTF-8", new Uint8Array([0xc3, 0x28]), { kind: "refused", type: "application/octet-stream" }],
  ])("recognizes %s", (_label, bytes, expected) => {
    expect(sniffContent(bytes)).toMatchObject(expected);
  });

  it("treats text that merely mentions tags as text", () => {
    expect(sniffContent(encode("Use <b> for bold; <html> starts a page.")).kind).toBe("text");
    expect(sniffContent(encode("<bold claim> is not a tag we sniff")).kind).toBe("text");
    expect(sniffContent(TEXT).kind).toBe("text");
  });
});

describe("classifyUpload", () => {
  it("stores the type the content and the name agree on", () => {
    expect(classifyUpload({ bytes: PNG, name: "a.PNG", declaredType: "image/png" }, ALL)).toBe("image/png");
    expect(classifyUpload({ bytes: TEXT, name: "a.md", declaredType: "text/plain" }, ALL)).toBe("text/markdown");
    expect(classifyUpload({ bytes: encode("[1]"), name: "a.json", declaredType: "" }, ALL)).toBe("application/json");
  });

  it("refuses with the facts it decided on", () => {
    const problem = problemOf(() => classifyUpload({ bytes: EXE, name: "cat.png", declaredType: "image/png" }, ALL));
    expect(problem.status).toBe(415);
    expect(problem.init.extensions).toMatchObject({ detected_type: "application/x-msdownload", extension: "png", declared_type: "image/png" });
  });

  it("follows UPLOAD_ALLOWED_TYPES and ignores types it cannot verify", () => {
    const onlyImages = allowedTypes(["image/png", "image/svg+xml", "TEXT/HTML"]);
    expect(onlyImages).toEqual(["image/png"]);
    expect(classifyUpload({ bytes: PNG, name: "a.png", declaredType: "" }, onlyImages)).toBe("image/png");
    expect(problemOf(() => classifyUpload({ bytes: TEXT, name: "a.txt", declaredType: "" }, onlyImages)).status).toBe(415);
  });
});

describe("sanitizeFileName", () => {
  it.each([
    ["  report.pdf  ", "report.pdf"],
    [".env.txt", "env.txt"],
    ["name.txt.", "name.txt"],
    ["A\u030A.txt", "\u00C5.txt"],
  ])("cleans %j to %j", (raw, clean) => {
    expect(sanitizeFileName(raw)).toBe(clean);
  });

  it.each(["a/b.txt", "a\\b.txt", "a\u2215b.txt".replace("\u2215", "\uFF3C"), "tab\there.txt", "nl\nhere.txt", "\u0085.txt", "x\u2066.txt", "..", "../x", "   ", "."])(
    "refuses %j with 422",
    (raw) => {
      expect(problemOf(() => sanitizeFileName(raw)).status).toBe(422);
    },
  );

  it("keeps at most 255 bytes without splitting a character and keeps the extension", () => {
    const name = sanitizeFileName(`${"😀".repeat(100)}.jpeg`);
    expect(new TextEncoder().encode(name).byteLength).toBeLessThanOrEqual(255);
    expect(name).toBe(`${"😀".repeat(62)}.jpeg`);
  });

  it("finds extensions only after a stem", () => {
    expect(extensionOf("archive.tar.GZ")).toBe("gz");
    expect(extensionOf("noext")).toBeNull();
    expect(extensionOf("trailing.")).toBeNull();
  });
});

describe("parseRange", () => {
  it.each([
    [null, { kind: "full" }],
    ["bytes=0-0", { kind: "partial", offset: 0, length: 1 }],
    ["bytes=90-", { kind: "partial", offset: 90, length: 10 }],
    ["bytes=-5", { kind: "partial", offset: 95, length: 5 }],
    ["bytes=-500", { kind: "partial", offset: 0, length: 100 }],
    ["bytes=50-10", { kind: "full" }],
    ["bytes=0-1,5-6", { kind: "full" }],
    ["items=0-1", { kind: "full" }],
    ["bytes=100-", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
  ])("reads %j of a 100-byte file", (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});

describe("contentDisposition", () => {
  it("encodes per RFC 8187 with an ASCII fallback", () => {
    expect(contentDisposition("naïve 'quote' \"x\" 100%.txt")).toBe(
      "attachment; filename=\"na_ve 'quote' _x_ 100_.txt\"; filename*=UTF-8''na%C3%AFve%20%27quote%27%20%22x%22%20100%25.txt",
    );
  });
});

describe("signed links", () => {
  const config = (overrides: Record<string, string | undefined> = {}): Config => {
    const result = parseConfig({ ...env, ...overrides });
    if (!result.ok) throw new Error(result.problems.join("; "));
    return result.config;
  };

  it("verifies its own links and nothing else", async () => {
    const now = Date.now();
    const link = new URL((await createDownloadLink(config(), "file-1", 60, now)).url);
    const expires = link.searchParams.get("expires")!;
    const signature = link.searchParams.get("signature")!;
    expect(await verifyDownloadLink(config(), "file-1", expires, signature, now)).toBe("valid");
    expect(await verifyDownloadLink(config(), "file-2", expires, signature, now)).toBe("invalid");
    expect(await verifyDownloadLink(config(), "file-1", String(Number(expires) + 1), signature, now)).toBe("invalid");
    expect(await verifyDownloadLink(config(), "file-1", expires, signature, now + 61_000)).toBe("expired");
    expect(await verifyDownloadLink(config({ FILE_LINK_SECRET: "another-secret-of-at-least-32-characters" }), "file-1", expires, signature, now)).toBe("invalid");
  });

  it("works without FILE_LINK_SECRET in development, from a key derived from the JWT key", async () => {
    const devConfig = config({ FILE_LINK_SECRET: undefined, ENVIRONMENT: "development" });
    const link = new URL((await createDownloadLink(devConfig, "file-1", 60, Date.now())).url);
    const args = [link.searchParams.get("expires")!, link.searchParams.get("signature")!] as const;
    expect(await verifyDownloadLink(devConfig, "file-1", ...args, Date.now())).toBe("valid");
    expect(await verifyDownloadLink(config(), "file-1", ...args, Date.now())).toBe("invalid");
  });
});
