import { argon2id } from "@noble/hashes/argon2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { type Argon2Params, hashPassword, verifyAgainstDummy, verifyPassword } from "../../src/lib/password";

/** Cheap parameters: the tests prove behaviour, not cost. */
const cheap: Argon2Params = { memoryKib: 64, iterations: 1, parallelism: 1 };

const PHC_SHAPE = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parts(phc: string) {
  const match = PHC_SHAPE.exec(phc);
  if (!match) throw new Error(`not a PHC string: ${phc}`);
  const [, m, t, p, salt, hash] = match as unknown as string[];
  return { m, t, p, salt: salt as string, hash: hash as string };
}

/** Flips one base64 character to another valid one at the same position (keeps the length). */
function flipChar(text: string, index: number): string {
  const replacement = text[index] === "A" ? "B" : "A";
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Sets the lowest bit of the last base64 character: for 16- and 32-byte values that bit carries
 * no data, so a lax decoder would read the same bytes from this second spelling.
 */
function withTrailingBit(text: string): string {
  const last = BASE64.indexOf(text.slice(-1));
  return text.slice(0, -1) + BASE64[last | 1];
}

describe("argon2id primitive (RFC 9106 §5.3 test vector)", () => {
  it("produces the RFC's tag with secret and associated data", () => {
    const tag = argon2id(new Uint8Array(32).fill(0x01), new Uint8Array(16).fill(0x02), {
      t: 3,
      m: 32,
      p: 4,
      version: 0x13,
      dkLen: 32,
      key: new Uint8Array(8).fill(0x03),
      personalization: new Uint8Array(12).fill(0x04),
    });
    expect(bytesToHex(tag)).toBe("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
  });
});

describe("hashPassword", () => {
  it("writes a PHC string with the given parameters, a 16-byte salt and a 32-byte hash", async () => {
    const phc = await hashPassword("correct horse battery staple", { memoryKib: 64, iterations: 2, parallelism: 1 });
    const { m, t, p, salt, hash } = parts(phc);
    expect([m, t, p]).toEqual(["64", "2", "1"]);
    expect(salt).toHaveLength(22); // 16 bytes, unpadded base64
    expect(hash).toHaveLength(43); // 32 bytes, unpadded base64
    expect(phc.split("$").slice(-2).join("")).not.toContain("="); // no base64 padding
  });

  it("uses a fresh salt every time", async () => {
    const first = await hashPassword("same password", cheap);
    const second = await hashPassword("same password", cheap);
    expect(parts(first).salt).not.toBe(parts(second).salt);
    expect(parts(first).hash).not.toBe(parts(second).hash);
  });

  it("refuses impossible parameters", async () => {
    await expect(hashPassword("x", { memoryKib: 7, iterations: 1, parallelism: 1 })).rejects.toThrow(RangeError);
    await expect(hashPassword("x", { memoryKib: 64, iterations: 0, parallelism: 1 })).rejects.toThrow(RangeError);
    await expect(hashPassword("x", { memoryKib: 64, iterations: 1, parallelism: 9 })).rejects.toThrow(RangeError);
    await expect(hashPassword("x", { memoryKib: 64.5, iterations: 1, parallelism: 1 })).rejects.toThrow(RangeError);
  });
});

describe("verifyPassword", () => {
  it("accepts the right password and refuses a wrong one", async () => {
    const phc = await hashPassword("correct horse battery staple", cheap);
    expect(await verifyPassword("correct horse battery staple", phc, cheap)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword("correct horse battery stapl", phc, cheap)).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassword("", phc, cheap)).toEqual({ ok: false, needsRehash: false });
  });

  it("verifies hashes written by the argon2 reference implementation", async () => {
    // `printf 'correct horse battery staple' | argon2 saltsaltsaltsalt -id -t 1 -k 64 -p 1 -l 32 -e`
    const reference = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$TUhCoV6YH8thtZpQqRp0JvQQ5ZYgiLA0LYApKDG6qtM";
    expect((await verifyPassword("correct horse battery staple", reference, cheap)).ok).toBe(true);
    expect((await verifyPassword("Correct horse battery staple", reference, cheap)).ok).toBe(false);
    // `printf ' Pässword ' | argon2 'sixteen byte slt' -id -t 2 -k 64 -p 2 -l 32 -e` (UTF-8, precomposed ä)
    const unicode = "$argon2id$v=19$m=64,t=2,p=2$c2l4dGVlbiBieXRlIHNsdA$dlle7QRgI4dRXVdcAcmk5YP9DDh8SaYTpY4zH8DP2is";
    expect((await verifyPassword(" P\u00e4ssword ", unicode, cheap)).ok).toBe(true);
  });

  it("checks the password exactly as typed: Unicode form and surrounding spaces matter", async () => {
    const precomposed = await hashPassword("P\u00e4ssword", cheap);
    expect((await verifyPassword("P\u00e4ssword", precomposed, cheap)).ok).toBe(true);
    expect((await verifyPassword("Pa\u0308ssword", precomposed, cheap)).ok).toBe(false);
    expect((await verifyPassword("p\u00e4ssword", precomposed, cheap)).ok).toBe(false);

    const spaced = await hashPassword("  secret words  ", cheap);
    expect((await verifyPassword("  secret words  ", spaced, cheap)).ok).toBe(true);
    expect((await verifyPassword("secret words", spaced, cheap)).ok).toBe(false);
    expect((await verifyPassword("  secret words", spaced, cheap)).ok).toBe(false);
  });

  it("handles emoji and other astral characters as their UTF-8 bytes", async () => {
    const phc = await hashPassword("🔐 unlock 🗝️ now", cheap);
    expect((await verifyPassword("🔐 unlock 🗝️ now", phc, cheap)).ok).toBe(true);
    expect((await verifyPassword("🔐 unlock 🗝 now", phc, cheap)).ok).toBe(false); // no variation selector
  });

  it("fails when the salt, the hash or the parameters were tampered with", async () => {
    const password = "tamper evident";
    const phc = await hashPassword(password, cheap);
    const { salt, hash } = parts(phc);
    const tampered = [
      phc.replace(`$${salt}$`, `$${flipChar(salt, 3)}$`),
      phc.replace(`$${hash}`, `$${flipChar(hash, 10)}`),
      phc.replace("m=64,", "m=72,"),
      phc.replace("t=1,", "t=2,"),
      phc.replace("p=1$", "p=2$"),
    ];
    for (const candidate of tampered) {
      expect(candidate).not.toBe(phc);
      expect(await verifyPassword(password, candidate, cheap)).toEqual({ ok: false, needsRehash: false });
    }
  });

  it("returns ok:false, without throwing, for malformed or unsupported stored strings", async () => {
    const good = await hashPassword("pw", cheap);
    const { salt, hash } = parts(good);
    const malformed: unknown[] = [
      "",
      "not a hash",
      good.replace("$argon2id$", "$argon2i$"),
      good.replace("$argon2id$", "$argon2d$"),
      good.replace("$v=19$", "$v=16$"),
      good.replace("$v=19", ""), // version omitted means the legacy 0x10
      good.replace("m=64,t=1,p=1", "t=1,m=64,p=1"), // parameters out of order
      good.replace("m=64", "m=064"), // non-canonical number
      good.replace("m=64", "m=0"),
      good.replace("m=64", "m=7"), // below 8 KiB per lane
      good.replace("m=64", "m=99999999999"),
      good.replace("m=64", "m=2097152"), // above the 1 GiB ceiling
      good.replace("m=64", "m=131072"), // 128 MiB: more than an isolate has
      good.replace("m=64,t=1", "m=65536,t=16"), // within each bound, but m × t is seconds of CPU
      good.replace("t=1", "t=17"), // more passes than the bound
      good.replace("t=1", "t=0"),
      good.replace("t=1", "t=1000"),
      good.replace("p=1", "p=0"),
      good.replace("p=1$", "p=1,keyid=abc$"),
      good.replace("p=1$", "p=1,data=abc$"),
      good.replace(`$${hash}`, `$${hash}=`), // padded
      good.replace(`$${hash}`, `$${withTrailingBit(hash)}`), // same bytes, non-canonical spelling
      good.replace(`$${salt}$`, `$${withTrailingBit(salt)}$`),
      good.replace(`$${hash}`, `$${hash.slice(0, 20)}`), // hash too short
      good.replace(`$${hash}`, `$${hash.replace(/[A-Za-z0-9+/]/, "-")}`), // URL-safe alphabet
      good.replace(`$${salt}$`, "$$"), // empty salt
      good.replace(`$${salt}$`, "$c2FsdA$"), // 4-byte salt
      `${good}$extra`,
      ` ${good}`,
      `${good}\n`,
      good.slice(0, -1),
      `${good.slice(0, -8)}\u00e9${good.slice(-7)}`,
      null,
      undefined,
      42,
    ];
    for (const candidate of malformed) {
      const result = await verifyPassword("pw", candidate as string, cheap);
      expect(result, String(candidate)).toEqual({ ok: false, needsRehash: false });
    }
    expect((await verifyPassword("pw", good, cheap)).ok).toBe(true);
  });

  it("asks for a rehash when any stored parameter is below the current one", async () => {
    const stored = await hashPassword("upgrade me", { memoryKib: 64, iterations: 1, parallelism: 1 });
    const cases: Array<[Argon2Params, boolean]> = [
      [{ memoryKib: 64, iterations: 1, parallelism: 1 }, false],
      [{ memoryKib: 32, iterations: 1, parallelism: 1 }, false], // stored is stronger: keep it
      [{ memoryKib: 128, iterations: 1, parallelism: 1 }, true],
      [{ memoryKib: 64, iterations: 2, parallelism: 1 }, true],
      [{ memoryKib: 64, iterations: 1, parallelism: 2 }, true],
      [{ memoryKib: 19456, iterations: 2, parallelism: 1 }, true],
    ];
    for (const [current, needsRehash] of cases) {
      expect(await verifyPassword("upgrade me", stored, current)).toEqual({ ok: true, needsRehash });
    }
    // A wrong password never asks for a rehash: there is nothing to rehash with.
    expect(await verifyPassword("wrong", stored, { memoryKib: 128, iterations: 2, parallelism: 2 })).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it("asks for a rehash of a reference hash whose parameters are now too weak", async () => {
    const reference = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$TUhCoV6YH8thtZpQqRp0JvQQ5ZYgiLA0LYApKDG6qtM";
    const result = await verifyPassword("correct horse battery staple", reference, { ...cheap, iterations: 3 });
    expect(result).toEqual({ ok: true, needsRehash: true });
  });
});

describe("verifyAgainstDummy", () => {
  it("always fails, whatever the password", async () => {
    for (const password of ["", "password", "correct horse battery staple", "🔐"]) {
      expect(await verifyAgainstDummy(password, cheap)).toEqual({ ok: false, needsRehash: false });
    }
  });

  it("works for several parameter sets in one isolate", async () => {
    expect(await verifyAgainstDummy("a", cheap)).toEqual({ ok: false, needsRehash: false });
    expect(await verifyAgainstDummy("a", { memoryKib: 128, iterations: 2, parallelism: 2 })).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it("refuses impossible parameters like hashPassword does", async () => {
    await expect(verifyAgainstDummy("a", { memoryKib: 4, iterations: 1, parallelism: 1 })).rejects.toThrow(RangeError);
  });
});
