import { env } from "cloudflare:test";
import { base64url, decodeJwt, importJWK, SignJWT, type JWK, type JWTHeaderParameters, type JWTPayload } from "jose";

/** What the vitest bindings configure (vitest.config.ts): PUBLIC_BASE_URL is the issuer. */
export const TEST_KID = "test-key-1";
export const TEST_ISSUER = "http://localhost";
export const TEST_AUDIENCE = "edge-auth-api";

/** The private signing JWK the worker under test uses (read from the test bindings). */
export function testPrivateJwk(): JWK {
  return (JSON.parse(env.JWT_SIGNING_KEYS as string) as JWK[])[0]!;
}

/** The public half of the test key, as published in the JWKS. */
export function testPublicJwk(): JWK {
  const { d: _private, ...publicJwk } = testPrivateJwk();
  return publicJwk;
}

/** The claims a genuine access token for `subject` carries, valid now. */
export function genuineClaims(subject: { userId: string; sessionId: string }, now = Date.now()): JWTPayload {
  const iat = Math.floor(now / 1000);
  return { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: subject.userId, sid: subject.sessionId, jti: crypto.randomUUID(), iat, exp: iat + 900 };
}

/**
 * Signs arbitrary claims with an arbitrary protected header, by default with the worker's own key
 * (so only the deviation under test makes a token invalid).
 */
export async function forgeToken(claims: JWTPayload, header: Partial<JWTHeaderParameters> = {}, key?: CryptoKey | Uint8Array): Promise<string> {
  const signingKey = key ?? ((await importJWK(testPrivateJwk(), "EdDSA")) as CryptoKey);
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: TEST_KID, ...header } as JWTHeaderParameters).sign(signingKey);
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** An unsecured JWT (`alg: none`, empty signature), which jose refuses to produce. */
export function unsignedToken(claims: JWTPayload, header: Record<string, unknown> = { alg: "none", typ: "at+jwt", kid: TEST_KID }): string {
  return `${encodeJson(header)}.${encodeJson(claims)}.`;
}

/**
 * Signs any header with the worker's Ed25519 key, bypassing jose's own header checks (it refuses
 * to produce, e.g., unknown `crit` extensions).
 */
export async function rawSignedToken(header: Record<string, unknown>, claims: JWTPayload): Promise<string> {
  const signingInput = `${encodeJson(header)}.${encodeJson(claims)}`;
  const key = (await importJWK(testPrivateJwk(), "EdDSA")) as CryptoKey;
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(signingInput)));
  return `${signingInput}.${base64url.encode(signature)}`;
}

/** An HMAC-SHA256 JWT whose secret is `secret`: the algorithm-confusion attack when it is the public key. */
export async function hmacToken(claims: JWTPayload, secret: Uint8Array, header: Record<string, unknown> = { alg: "HS256", typ: "at+jwt", kid: TEST_KID }): Promise<string> {
  const signingInput = `${encodeJson(header)}.${encodeJson(claims)}`;
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signingInput)));
  return `${signingInput}.${base64url.encode(signature)}`;
}

/** The same token with its payload replaced and the ORIGINAL signature kept. */
export function withPayload(token: string, change: (claims: JWTPayload) => JWTPayload): string {
  const [header, , signature] = token.split(".");
  return `${header}.${encodeJson(change(decodeJwt(token)))}.${signature}`;
}
