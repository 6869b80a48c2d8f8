import { describe, expect, it } from "vitest";
import { currentAssurance, hasFreshSecondFactor, parseMethods } from "../../src/lib/assurance";
import { open, seal, SecretBoxError, sealedKid } from "../../src/lib/secret-box";
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from "../../src/modules/mfa/recovery-codes";
import { matchTotp, newTotpSecret, totpCode, totpStep, totpUri } from "../../src/modules/mfa/totp";

// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII seed "12345678901234567890", 8 digits.
const RFC_SEED = new TextEncoder().encode("12345678901234567890");
const RFC_VECTORS: [number, string][] = [
  [59, "94287082"],
  [1_111_111_109, "07081804"],
  [1_111_111_111, "14050471"],
  [1_234_567_890, "89005924"],
  [2_000_000_000, "69279037"],
  [20_000_000_000, "65353130"],
];

describe("TOTP (RFC 6238)", () => {
  it.each(RFC_VECTORS)("at T=%i s the code is %s", (seconds, expected) => {
    expect(totpCode(RFC_SEED, seconds * 1000, 8)).toBe(expected);
  });

  it("6-digit codes are the last six digits of the 8-digit ones (same HOTP value)", () => {
    expect(totpCode(RFC_SEED, 59_000)).toBe("287082");
  });

  it("accepts the current step and one either side, nothing further (controlled clock)", () => {
    const secret = newTotpSecret();
    const now = 1_700_000_015_000; // 15 s into a step
    const step = totpStep(now);
    expect(matchTotp(secret, totpCode(secret, now), now, null)).toBe(step);
    expect(matchTotp(secret, totpCode(secret, now - 30_000), now, null)).toBe(step - 1);
    expect(matchTotp(secret, totpCode(secret, now + 30_000), now, null)).toBe(step + 1);
    expect(matchTotp(secret, totpCode(secret, now - 60_000), now, null)).toBeNull();
    expect(matchTotp(secret, totpCode(secret, now + 60_000), now, null)).toBeNull();
  });

  it("window edges: the last millisecond of a step still accepts the previous one; the next millisecond does not", () => {
    const secret = newTotpSecret();
    const stepStart = 1_700_000_010_000; // a multiple of 30 s
    expect(stepStart % 30_000).toBe(0);
    const previous = totpCode(secret, stepStart - 1);
    expect(matchTotp(secret, previous, stepStart + 29_999, null)).toBe(totpStep(stepStart) - 1);
    expect(matchTotp(secret, previous, stepStart + 30_000, null)).toBeNull();
  });

  it("refuses a step at or before the last used one (replay), accepts a later one", () => {
    const secret = newTotpSecret();
    const now = 1_700_000_000_000;
    const step = totpStep(now);
    expect(matchTotp(secret, totpCode(secret, now), now, step)).toBeNull();
    expect(matchTotp(secret, totpCode(secret, now - 30_000), now, step - 1)).toBeNull();
    expect(matchTotp(secret, totpCode(secret, now + 30_000), now, step)).toBe(step + 1);
  });

  it("refuses anything that is not six digits", () => {
    const secret = newTotpSecret();
    for (const bad of ["", "12345", "1234567", "12 456", "abcdef", "١٢٣٤٥٦"]) expect(matchTotp(secret, bad, Date.now(), null)).toBeNull();
  });

  it("secrets are 160 bits and random; the otpauth URI carries issuer, account, SHA1, 6 digits, 30 s", () => {
    const secret = newTotpSecret();
    expect(secret.length).toBe(20);
    expect(newTotpSecret()).not.toEqual(secret);
    const uri = new URL(totpUri("Edge Auth", "ada@example.com", secret));
    expect(uri.protocol).toBe("otpauth:");
    expect(decodeURIComponent(uri.pathname)).toContain("Edge Auth:ada@example.com");
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ issuer: "Edge Auth", algorithm: "SHA1", digits: "6", period: "30" });
    expect(uri.searchParams.get("secret")).toMatch(/^[A-Z2-7]{32}$/);
  });
});

describe("secret box (AES-256-GCM, rotatable keys)", () => {
  const key = (kid: string) => ({ kid, key: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "") });
  const oldKey = key("k1");
  const newKey = key("k2");

  it("round-trips with the first key and names it", async () => {
    const sealed = await seal([oldKey], new Uint8Array([1, 2, 3]), "user-1");
    expect(sealedKid(sealed)).toBe("k1");
    expect(await open([oldKey], sealed, "user-1")).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("after rotation the new key encrypts and the old one still decrypts", async () => {
    const before = await seal([oldKey], new Uint8Array([7]), "user-1");
    const after = await seal([newKey, oldKey], new Uint8Array([8]), "user-1");
    expect(sealedKid(after)).toBe("k2");
    expect(await open([newKey, oldKey], before, "user-1")).toEqual(new Uint8Array([7]));
    await expect(open([newKey], before, "user-1")).rejects.toBeInstanceOf(SecretBoxError);
  });

  it("refuses another user's row (AAD), a tampered ciphertext, and an empty key ring", async () => {
    const sealed = await seal([oldKey], new Uint8Array([9, 9]), "user-1");
    await expect(open([oldKey], sealed, "user-2")).rejects.toBeInstanceOf(SecretBoxError);
    const [kid, iv, body] = sealed.split(".");
    // The body's first character: all six of its bits are data (a last one may carry only padding
    // bits), and the replacement always differs from it (it once compared the wrong character).
    const flipped = `${kid}.${iv}.${body!.startsWith("A") ? "B" : "A"}${body!.slice(1)}`;
    expect(flipped).not.toBe(sealed);
    await expect(open([oldKey], flipped, "user-1")).rejects.toBeInstanceOf(SecretBoxError);
    await expect(open([oldKey], "garbage", "user-1")).rejects.toBeInstanceOf(SecretBoxError);
    await expect(seal([], new Uint8Array([1]), "user-1")).rejects.toBeInstanceOf(SecretBoxError);
  });
});

describe("recovery codes", () => {
  it("ten distinct codes of the form xxxxx-xxxxx without look-alike characters", () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/);
  });

  it("typing is forgiving (case, spaces, dashes) and the hash is of the normalized form", async () => {
    expect(normalizeRecoveryCode(" ABCDE-fghjk ")).toBe("abcdefghjk");
    expect(await hashRecoveryCode("ABCDE fghjk")).toBe(await hashRecoveryCode("abcde-fghjk"));
    expect(await hashRecoveryCode("abcde-fghjk")).not.toBe(await hashRecoveryCode("abcde-fghjm"));
  });
});

describe("assurance of a session", () => {
  const base = { acr: "aal1" as const, amr: ["pwd"], authTime: 1_000, mfaVerifiedAt: null, mfaMethods: null };

  it("a step-up lifts an aal1 session to aal2 for the window only, then it drops back", () => {
    const stepped = { ...base, mfaVerifiedAt: 10_000, mfaMethods: ["otp"] };
    expect(currentAssurance(stepped, 10_000 + 599_999, 600)).toEqual({ acr: "aal2", amr: ["pwd", "otp", "mfa"], authTime: 1_000 });
    expect(currentAssurance(stepped, 10_000 + 600_000, 600)).toEqual({ acr: "aal1", amr: ["pwd"], authTime: 1_000 });
    expect(hasFreshSecondFactor(stepped, 10_000 + 600_000, 600)).toBe(false);
  });

  it("an aal2 sign-in keeps its level; a session that never proved a factor is never fresh", () => {
    const signedIn = { ...base, acr: "aal2" as const, amr: ["pwd", "otp", "mfa"], mfaVerifiedAt: 1_000, mfaMethods: ["otp"] };
    expect(currentAssurance(signedIn, 10_000_000, 600).acr).toBe("aal2");
    expect(hasFreshSecondFactor(base, 1_000, 600)).toBe(false);
    expect(parseMethods("not json")).toEqual([]);
    expect(parseMethods('{"a":1}')).toEqual([]);
    expect(parseMethods('["pwd",3]')).toEqual(["pwd"]);
  });
});
