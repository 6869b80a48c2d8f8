import { env } from "cloudflare:test";
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config";
import { parseConfig } from "../../src/env";
import { ACCESS_TOKEN_TYPE, InvalidTokenError, publicJwks, signAccessToken, verifyAccessToken } from "../../src/lib/jwt";
import { forgeToken, genuineClaims, hmacToken, testPrivateJwk, testPublicJwk, unsignedToken, withPayload } from "../helpers/forge-token";

const subject = { userId: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47", sessionId: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d48" };

/** A fresh config object (so its key ring is imported anew) with `keys` as JWT_SIGNING_KEYS. */
function configWith(keys: JWK[] = [testPrivateJwk()], overrides: Record<string, string> = {}): Config {
  const result = parseConfig({ ...env, JWT_SIGNING_KEYS: JSON.stringify(keys), ...overrides });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

async function newKey(alg: "EdDSA" | "ES256", kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, crv: alg === "EdDSA" ? "Ed25519" : undefined });
  return { ...(await exportJWK(privateKey)), kid };
}

async function expectInvalid(config: Config, token: string, now?: number): Promise<InvalidTokenError> {
  const error = await verifyAccessToken(config, token, now).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

describe("signAccessToken / verifyAccessToken", () => {
  it("round-trips: the header and claims are exactly the documented ones", async () => {
    const config = configWith();
    const now = Date.now();
    const { token, expiresIn } = await signAccessToken(config, subject, now);
    expect(expiresIn).toBe(900);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "EdDSA", typ: ACCESS_TOKEN_TYPE, kid: "test-key-1" });
    const payload = decodeJwt(token);
    const iat = Math.floor(now / 1000);
    expect(payload).toMatchObject({ iss: "http://localhost", aud: "edge-auth-api", sub: subject.userId, sid: subject.sessionId, iat, exp: iat + 900 });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    const claims = await verifyAccessToken(config, token, now);
    expect(claims).toEqual({ sub: subject.userId, sid: subject.sessionId, jti: payload.jti, iat, exp: iat + 900 });
  });

  it("gives every token its own jti", async () => {
    const config = configWith();
    const first = decodeJwt((await signAccessToken(config, subject)).token);
    const second = decodeJwt((await signAccessToken(config, subject)).token);
    expect(first.jti).not.toBe(second.jti);
  });

  it("signs and verifies with an ES256 (P-256) key", async () => {
    const config = configWith([await newKey("ES256", "ec-key")]);
    const { token } = await signAccessToken(config, subject);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "ES256", kid: "ec-key", typ: "at+jwt" });
    await expect(verifyAccessToken(config, token)).resolves.toMatchObject({ sub: subject.userId });
    const jwks = await publicJwks(config);
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: "EC", crv: "P-256", kid: "ec-key", alg: "ES256", use: "sig" })]);
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("honours ACCESS_TOKEN_TTL, JWT_ISSUER and JWT_AUDIENCE", async () => {
    const config = configWith([testPrivateJwk()], { ACCESS_TOKEN_TTL: "120", JWT_ISSUER: "https://issuer.example", JWT_AUDIENCE: "other-api" });
    const { token, expiresIn } = await signAccessToken(config, subject);
    expect(expiresIn).toBe(120);
    const payload = decodeJwt(token);
    expect(payload).toMatchObject({ iss: "https://issuer.example", aud: "other-api" });
    expect(payload.exp! - payload.iat!).toBe(120);
    // The default configuration expects another issuer and audience.
    expect((await expectInvalid(configWith(), token)).message).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
  });
});

describe("key rotation (JWT_SIGNING_KEYS: the first signs, every key verifies)", () => {
  it("keeps verifying tokens of an old key listed second, and signs new tokens with the new first key", async () => {
    const oldKey = await newKey("EdDSA", "old");
    const newer = await newKey("ES256", "new");
    const before = await signAccessToken(configWith([oldKey]), subject);
    const rotated = configWith([newer, oldKey]);
    await expect(verifyAccessToken(rotated, before.token)).resolves.toMatchObject({ sub: subject.userId });
    const after = await signAccessToken(rotated, subject);
    expect(decodeProtectedHeader(after.token).kid).toBe("new");
    expect((await publicJwks(rotated)).keys.map((key) => key.kid)).toEqual(["new", "old"]);
  });

  it("refuses tokens of a key that was removed", async () => {
    const oldKey = await newKey("EdDSA", "old");
    const { token } = await signAccessToken(configWith([oldKey]), subject);
    const retired = configWith([await newKey("EdDSA", "new")]);
    expect((await expectInvalid(retired, token)).message).toBe("unknown kid");
  });

  it("refuses a token whose kid names one key but whose alg is another key's", async () => {
    const ecKey = await newKey("ES256", "ec");
    const config = configWith([testPrivateJwk(), ecKey]);
    // Signed by the Ed25519 key but labelled with the EC key's kid: alg must match the named key.
    const token = await forgeToken(genuineClaims(subject), { kid: "ec" });
    expect((await expectInvalid(config, token)).message).toBe("algorithm does not match the key");
  });
});

describe("verifyAccessToken refuses", () => {
  const config = configWith();
  const claims = () => genuineClaims(subject);

  it("the genuine forge as a control (the helpers produce valid tokens)", async () => {
    await expect(verifyAccessToken(config, await forgeToken(claims()))).resolves.toMatchObject({ sid: subject.sessionId });
  });

  it("alg none", async () => {
    await expectInvalid(config, unsignedToken(claims()));
  });

  it("HS256 signed with the public key (raw bytes and the JWK text)", async () => {
    const publicJwk = testPublicJwk();
    const raw = Uint8Array.from(atob(publicJwk.x!.replaceAll("-", "+").replaceAll("_", "/")), (char) => char.charCodeAt(0));
    await expectInvalid(config, await hmacToken(claims(), raw));
    await expectInvalid(config, await hmacToken(claims(), new TextEncoder().encode(JSON.stringify(publicJwk))));
  });

  it("another Ed25519 key with the same kid", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    expect((await expectInvalid(config, await forgeToken(claims(), {}, privateKey))).message).toBe("ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
  });

  it("a tampered payload under the original signature", async () => {
    const { token } = await signAccessToken(config, subject);
    await expectInvalid(config, withPayload(token, (payload) => ({ ...payload, sub: "0193a6f0-0000-7000-8000-000000000000" })));
  });

  it("expiry beyond the 30 s skew, but accepts it within the skew", async () => {
    const now = Date.now();
    const { token } = await signAccessToken(config, subject, now);
    await expect(verifyAccessToken(config, token, now + 900_000 + 25_000)).resolves.toBeTruthy();
    expect((await expectInvalid(config, token, now + 900_000 + 35_000)).message).toBe("ERR_JWT_EXPIRED");
  });

  it("a future iat or nbf beyond the skew, but accepts them within it", async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    await expectInvalid(config, await forgeToken({ ...claims(), iat: nowSeconds + 120 }));
    await expectInvalid(config, await forgeToken({ ...claims(), nbf: nowSeconds + 120 }));
    await expect(verifyAccessToken(config, await forgeToken({ ...claims(), iat: nowSeconds + 10, nbf: nowSeconds + 10 }))).resolves.toBeTruthy();
  });

  it("a wrong iss, aud or typ, and a missing typ", async () => {
    await expectInvalid(config, await forgeToken({ ...claims(), iss: "https://evil.example" }));
    await expectInvalid(config, await forgeToken({ ...claims(), aud: "another-api" }));
    await expectInvalid(config, await forgeToken(claims(), { typ: "JWT" }));
    await expectInvalid(config, await forgeToken(claims(), { typ: undefined }));
  });

  it("an unknown, path-like or missing kid", async () => {
    for (const kid of ["nope", "../../etc/passwd", "__proto__", "constructor", undefined]) {
      expect((await expectInvalid(config, await forgeToken(claims(), { kid }))).message).toBe("unknown kid");
    }
  });

  it("a token signed by a key embedded in jwk / referenced by jku or x5u", async () => {
    const attacker = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const jwk = await exportJWK(attacker.publicKey);
    await expectInvalid(config, await forgeToken(claims(), { jwk }, attacker.privateKey));
    await expectInvalid(config, await forgeToken(claims(), { jwk, kid: undefined }, attacker.privateKey));
    await expectInvalid(config, await forgeToken(claims(), { jku: "https://evil.example/jwks.json" }, attacker.privateKey));
    await expectInvalid(config, await forgeToken(claims(), { x5u: "https://evil.example/cert.pem" }, attacker.privateKey));
  });

  it("a token missing any of sub, jti, sid, exp or iat", async () => {
    for (const claim of ["sub", "jti", "sid", "exp", "iat"]) {
      const partial = claims();
      delete partial[claim];
      await expectInvalid(config, await forgeToken(partial));
    }
  });

  it("claims of the wrong type", async () => {
    await expectInvalid(config, await forgeToken({ ...claims(), sid: 42 }));
    await expectInvalid(config, await forgeToken({ ...claims(), sub: ["a", "b"] } as unknown as JWTPayload));
    await expectInvalid(config, await forgeToken({ ...claims(), exp: "never" } as unknown as JWTPayload));
  });

  it("garbage that is not a JWT at all", async () => {
    for (const garbage of ["", "abc", "a.b.c", "rt_" + "A".repeat(43), "....", `${"x".repeat(20)}.${"y".repeat(20)}`]) {
      await expectInvalid(config, garbage);
    }
  });
});

describe("publicJwks", () => {
  it("publishes only public members of every key", async () => {
    const second = await newKey("ES256", "second");
    const jwks = await publicJwks(configWith([testPrivateJwk(), second]));
    expect(jwks.keys).toHaveLength(2);
    for (const key of jwks.keys) {
      expect(key).not.toHaveProperty("d");
      expect(key.use).toBe("sig");
      // A published key must verify: import it as a public key.
      await expect(importJWK(key, key.alg)).resolves.toBeTruthy();
    }
  });
});
