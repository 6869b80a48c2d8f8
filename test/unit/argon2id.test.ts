import { argon2id as nobleArgon2id } from "@noble/hashes/argon2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { argon2id } from "../../src/lib/argon2id";
import { verifyPassword } from "../../src/lib/password";

/** A seeded generator (mulberry32), so a failing password can be reproduced from the seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Characters of every UTF-8 length: ASCII, Latin-1, combining marks, CJK, emoji (4 bytes). */
const ALPHABETS = [
  " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
  "äöüßéèçñÅØæ¡¿«»€£¥",
  "\u0301\u0308\u030a\u200d\ufe0f",
  "日本語のパスワード한국어中文密码",
  "🔐🗝😀👩‍💻🏳️‍🌈🇩🇪𝄞",
];

function randomPassword(next: () => number): string {
  const length = Math.floor(next() * 64);
  let text = "";
  for (let i = 0; i < length; i++) {
    const alphabet = [...(ALPHABETS[Math.floor(next() * ALPHABETS.length)] as string)];
    text += alphabet[Math.floor(next() * alphabet.length)];
  }
  return text;
}

/** A password of exactly 1,024 UTF-8 bytes (the longest the API accepts), mixing byte widths. */
function maximalPassword(next: () => number): string {
  const encoder = new TextEncoder();
  let text = "";
  for (;;) {
    const alphabet = [...(ALPHABETS[Math.floor(next() * ALPHABETS.length)] as string)];
    const candidate = text + alphabet[Math.floor(next() * alphabet.length)];
    if (encoder.encode(candidate).length > 1024) break;
    text = candidate;
  }
  // Pad with ASCII up to the exact limit.
  return text + "x".repeat(1024 - encoder.encode(text).length);
}

const encode = (text: string) => new TextEncoder().encode(text);

describe("argon2id in WebAssembly agrees with @noble/hashes", () => {
  it("on 1,000 random passwords (non-ASCII, emoji, empty and 1,024-byte ones)", () => {
    const next = random(0x5eed);
    const passwords = [
      "",
      "pässwörd ✓",
      "🔐",
      ...Array.from({ length: 24 }, () => maximalPassword(next)),
      ...Array.from({ length: 1000 }, () => randomPassword(next)),
    ];
    expect(passwords.filter((password) => encode(password).length === 1024)).toHaveLength(24);
    expect(passwords.some((password) => /\p{Extended_Pictographic}/u.test(password))).toBe(true);
    const cost = { memoryKib: 8, iterations: 1, parallelism: 1 };
    for (const [index, password] of passwords.entries()) {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const expected = nobleArgon2id(encode(password), salt, { m: cost.memoryKib, t: cost.iterations, p: cost.parallelism, dkLen: 32, version: 0x13 });
      expect(bytesToHex(argon2id(encode(password), salt, cost, 32)), `password #${index} ${JSON.stringify(password)}`).toBe(bytesToHex(expected));
    }
    // noble's pure JavaScript dominates: seconds on a busy machine, more under coverage.
  }, 120_000);

  it("across parameters, lanes, salt and output lengths", () => {
    const next = random(42);
    const variants = [
      { memoryKib: 64, iterations: 1, parallelism: 1, salt: 16, length: 32 },
      { memoryKib: 256, iterations: 3, parallelism: 2, salt: 8, length: 16 },
      { memoryKib: 1024, iterations: 2, parallelism: 4, salt: 64, length: 64 },
      { memoryKib: 100, iterations: 2, parallelism: 3, salt: 32, length: 33 },
    ];
    for (const variant of variants) {
      for (let i = 0; i < 5; i++) {
        const password = i === 0 ? maximalPassword(next) : randomPassword(next);
        const salt = crypto.getRandomValues(new Uint8Array(variant.salt));
        const expected = nobleArgon2id(encode(password), salt, {
          m: variant.memoryKib, t: variant.iterations, p: variant.parallelism, dkLen: variant.length, version: 0x13,
        });
        expect(bytesToHex(argon2id(encode(password), salt, variant, variant.length))).toBe(bytesToHex(expected));
      }
    }
  });

  it("hashes the exact UTF-8 bytes: a non-ASCII password is not truncated", () => {
    const salt = new Uint8Array(16).fill(7);
    const cost = { memoryKib: 64, iterations: 1, parallelism: 1 };
    const full = bytesToHex(argon2id(encode("pässwörd ✓"), salt, cost, 32));
    // What a wrapper passing the UTF-16 length (10) would hash: the first 10 of 14 bytes.
    const truncated = bytesToHex(argon2id(encode("pässwörd ✓").slice(0, 10), salt, cost, 32));
    expect(full).not.toBe(truncated);
  });

  it("throws argon2's own message for input the reference code refuses", () => {
    expect(() => argon2id(encode("x"), new Uint8Array(4), { memoryKib: 64, iterations: 1, parallelism: 1 }, 32)).toThrow(/salt/i);
    expect(() => argon2id(encode("x"), new Uint8Array(16), { memoryKib: 4, iterations: 1, parallelism: 1 }, 32)).toThrow(/memory/i);
  });
});

describe("hashes written before the WebAssembly hasher still verify", () => {
  // Written by the previous implementation (@noble/hashes argon2id, this module's PHC format).
  const written: Array<[string, string]> = [
    ["correct horse battery staple", "$argon2id$v=19$m=19456,t=2,p=1$sJu+glnM8MtsjE4pImWb9Q$U9YYQVwMkY0CBbCiAGwBuJX9n7dMlOXZScb+SICwXQg"],
    ["pässwörd ✓", "$argon2id$v=19$m=64,t=1,p=1$I12qudzC9xVwbICF3EC8Bg$Zfm8jTVASTziDUOg9lpNKMVQgHSPLoV9YOCOvAOZOTk"],
    ["🔐 unlock 🗝️ now", "$argon2id$v=19$m=256,t=3,p=2$jNRguiGoT5VIAvI4HZQ3WQ$GJPsWYWCNaPGgnbAhJ0RBYwuvNSXZvsEx6y/U6e+8ko"],
    ["日本語のパスワード", "$argon2id$v=19$m=1024,t=2,p=4$K+hXy/2QyQ+9Y3cBCKchEQ$guVvqdAB+xTH+dZIoCymrWgupRPEbVw/mcLzAvs5o28"],
  ];
  const current = { memoryKib: 64, iterations: 1, parallelism: 1 };

  it.each(written)("%s", async (password, phc) => {
    expect((await verifyPassword(password, phc, current)).ok).toBe(true);
    expect((await verifyPassword(`${password} `, phc, current)).ok).toBe(false);
  });
});
