import { describe, expect, it } from "vitest";
import { base64Url, randomToken, sha256Hex, timingSafeEqual } from "../../src/lib/tokens";

describe("randomToken", () => {
  it("encodes 32 random bytes (256 bits) as 43 URL-safe characters after the prefix", () => {
    const token = randomToken(32, "rt_");
    expect(token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("never repeats and uses the whole alphabet (no bias towards a few characters)", () => {
    const tokens = new Set(Array.from({ length: 2_000 }, () => randomToken(32)));
    expect(tokens.size).toBe(2_000);
    const seen = new Set([...tokens].join(""));
    expect(seen.size).toBe(64);
  });
});

describe("base64Url", () => {
  it("matches RFC 4648 §5 without padding", () => {
    expect(base64Url(new Uint8Array([]))).toBe("");
    expect(base64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(base64Url(new TextEncoder().encode("foobar"))).toBe("Zm9vYmFy");
    expect(base64Url(new TextEncoder().encode("fo"))).toBe("Zm8");
  });
});

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 vectors", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("hashes the UTF-8 bytes of the text", async () => {
    // "é" as UTF-8 is C3 A9.
    expect(await sha256Hex("é")).toBe(await sha256Hex(new TextDecoder().decode(new Uint8Array([0xc3, 0xa9]))));
    expect(await sha256Hex("e\u0301")).not.toBe(await sha256Hex("é"));
  });
});

describe("timingSafeEqual", () => {
  it("is true only for identical strings", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("", "")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "Abc")).toBe(false);
    expect(timingSafeEqual("abc", "abcd")).toBe(false);
    expect(timingSafeEqual("abcd", "abc")).toBe(false);
  });
});
