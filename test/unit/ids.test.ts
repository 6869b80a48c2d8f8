import { describe, expect, it } from "vitest";
import { newId, UUID_PATTERN } from "../../src/lib/ids";

const hexOf = (id: string) => id.replaceAll("-", "");

describe("newId (UUIDv7, RFC 9562)", () => {
  it("is a lower-case canonical UUID with version 7 and the RFC variant", () => {
    for (let index = 0; index < 200; index++) {
      const id = newId();
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe("7");
      expect(["8", "9", "a", "b"]).toContain(id[19]);
    }
  });

  it("carries the millisecond timestamp in its first 48 bits", () => {
    const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const id = newId(now);
    expect(Number.parseInt(hexOf(id).slice(0, 12), 16)).toBe(now);
    expect(id.startsWith(now.toString(16).padStart(12, "0").replace(/^(.{8})(.{4})$/, "$1-$2"))).toBe(true);
  });

  it("sorts by creation time across milliseconds", () => {
    const start = Date.now();
    const ids = Array.from({ length: 100 }, (_, index) => newId(start + index * 7));
    expect([...ids].sort()).toEqual(ids);
    expect(newId(start) < newId(start + 1)).toBe(true);
  });

  it("has 74 random bits: ids of the same millisecond differ", () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1_000 }, () => newId(now)));
    expect(ids.size).toBe(1_000);
    expect(new Set([...ids].map((id) => id.slice(0, 13))).size).toBe(1);
  });
});

describe("UUID_PATTERN", () => {
  it("accepts canonical UUIDs only", () => {
    expect(UUID_PATTERN.test("0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47")).toBe(true);
    expect(UUID_PATTERN.test("0193A6F0-5B1E-7C3A-9F4D-2B8E6A1C0D47")).toBe(false);
    expect(UUID_PATTERN.test("0193a6f05b1e7c3a9f4d2b8e6a1c0d47")).toBe(false);
    expect(UUID_PATTERN.test(" 0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47")).toBe(false);
    expect(UUID_PATTERN.test("0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47\n")).toBe(false);
  });
});
