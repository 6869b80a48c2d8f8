import { errors as joseErrors, importJWK, jwtVerify, SignJWT, type JWK, type JWTHeaderParameters } from "jose";
import type { Config, PrivateJwk } from "../config";
import { newId } from "./ids";

/** RFC 9068: the media type of OAuth 2.0 access tokens; nothing else we issue carries it. */
export const ACCESS_TOKEN_TYPE = "at+jwt";
const CLOCK_SKEW_SECONDS = 30;

type Algorithm = "EdDSA" | "ES256";

interface LoadedKey {
  kid: string;
  alg: Algorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

interface KeyRing {
  signing: LoadedKey;
  byKid: Map<string, LoadedKey>;
  jwks: { keys: JWK[] };
}

const algorithmOf = (jwk: PrivateJwk): Algorithm => (jwk.kty === "OKP" ? "EdDSA" : "ES256");

async function loadKey(jwk: PrivateJwk): Promise<LoadedKey> {
  const alg = algorithmOf(jwk);
  const { d: _private, ...publicPart } = jwk;
  const publicJwk: JWK = { kty: publicPart.kty, crv: publicPart.crv, x: publicPart.x, kid: jwk.kid, alg, use: "sig" };
  if (publicPart.y) publicJwk.y = publicPart.y;
  const [privateKey, publicKey] = await Promise.all([importJWK({ ...jwk, alg }, alg), importJWK(publicJwk, alg)]);
  return { kid: jwk.kid, alg, privateKey: privateKey as CryptoKey, publicKey: publicKey as CryptoKey, publicJwk };
}

const rings = new WeakMap<Config, Promise<KeyRing>>();

/**
 * Imports JWT_SIGNING_KEYS once per isolate (per parsed config): the first key signs, every key
 * verifies, so a new key can be introduced and an old one retired without logging anyone out.
 */
export function keyRing(config: Config): Promise<KeyRing> {
  let ring = rings.get(config);
  if (!ring) {
    ring = (async () => {
      const keys = await Promise.all(config.JWT_SIGNING_KEYS.map(loadKey));
      return { signing: keys[0]!, byKid: new Map(keys.map((key) => [key.kid, key])), jwks: { keys: keys.map((key) => key.publicJwk) } };
    })();
    ring.catch(() => rings.delete(config));
    rings.set(config, ring);
  }
  return ring;
}

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  /** Authentication context class (docs/mfa.md): "aal1" or "aal2". */
  acr?: string;
  /** RFC 8176 authentication method references, e.g. ["pwd","otp","mfa"]. */
  amr?: string[];
  /** When the user authenticated, epoch seconds (OpenID Connect Core §2). */
  auth_time?: number;
}

/** Claims ACCESS_TOKEN_CLAIMS may add at issue time (RFC 9068 §2.2.3 style); as stale as the token is long. */
export interface AccessTokenExtraClaims {
  roles?: string[];
  permissions?: string[];
}

/** How the session's user authenticated, carried in every access token of the session. */
export interface Assurance {
  acr: "aal1" | "aal2";
  amr: string[];
  /** Epoch milliseconds. */
  authTime: number;
}

/**
 * Signs an access token for a user's session: `typ: at+jwt`, `kid`, iss/aud/sub/sid/jti/iat/exp,
 * the session's assurance (acr, amr, auth_time) when given, and `extra`.
 */
export async function signAccessToken(
  config: Config,
  subject: { userId: string; sessionId: string; assurance?: Assurance },
  now = Date.now(),
  extra: AccessTokenExtraClaims = {},
): Promise<{ token: string; expiresIn: number }> {
  const { signing } = await keyRing(config);
  const issuedAt = Math.floor(now / 1000);
  const assurance = subject.assurance;
  const claims = assurance ? { acr: assurance.acr, amr: assurance.amr, auth_time: Math.floor(assurance.authTime / 1000) } : {};
  const token = await new SignJWT({ ...extra, sid: subject.sessionId, ...claims })
    .setProtectedHeader({ alg: signing.alg, typ: ACCESS_TOKEN_TYPE, kid: signing.kid })
    .setIssuer(config.JWT_ISSUER ?? config.PUBLIC_BASE_URL)
    .setAudience(config.JWT_AUDIENCE)
    .setSubject(subject.userId)
    .setJti(newId(now))
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + config.ACCESS_TOKEN_TTL)
    .sign(signing.privateKey);
  return { token, expiresIn: config.ACCESS_TOKEN_TTL };
}

export class InvalidTokenError extends Error {
  override name = "InvalidTokenError";
}

/**
 * Verifies an access token (RFC 8725): the algorithm is pinned by the key the `kid` names (an
 * unknown kid is refused, `jku`/`x5u`/`jwk` headers are never followed), `typ` must be at+jwt,
 * iss/aud must match, exp/iat/sub/jti/sid are required, and at most 30 s of clock skew is allowed.
 *
 * @throws InvalidTokenError with a reason safe to log (never the token).
 */
export async function verifyAccessToken(config: Config, token: string, now = Date.now()): Promise<AccessTokenClaims> {
  const ring = await keyRing(config);
  let resolvedAlg: Algorithm | undefined;
  try {
    const { payload } = await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = typeof header.kid === "string" ? ring.byKid.get(header.kid) : undefined;
        if (!key) throw new InvalidTokenError("unknown kid");
        if (header.alg !== key.alg) throw new InvalidTokenError("algorithm does not match the key");
        resolvedAlg = key.alg;
        return key.publicKey;
      },
      {
        algorithms: ["EdDSA", "ES256"],
        issuer: config.JWT_ISSUER ?? config.PUBLIC_BASE_URL,
        audience: config.JWT_AUDIENCE,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ["exp", "iat", "sub", "jti", "sid"],
        currentDate: new Date(now),
      },
    );
    if (!resolvedAlg) throw new InvalidTokenError("no key resolved");
    const nowSeconds = Math.floor(now / 1000);
    if (typeof payload.iat !== "number" || payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) throw new InvalidTokenError("issued in the future");
    if (typeof payload.sid !== "string" || typeof payload.sub !== "string" || typeof payload.jti !== "string") {
      throw new InvalidTokenError("malformed claims");
    }
    const claims: AccessTokenClaims = { sub: payload.sub, sid: payload.sid, jti: payload.jti, iat: payload.iat, exp: payload.exp as number };
    if (typeof payload.acr === "string") claims.acr = payload.acr;
    if (Array.isArray(payload.amr) && payload.amr.every((value) => typeof value === "string")) claims.amr = payload.amr as string[];
    if (typeof payload.auth_time === "number") claims.auth_time = payload.auth_time;
    return claims;
  } catch (error) {
    if (error instanceof InvalidTokenError) throw error;
    if (error instanceof joseErrors.JOSEError) throw new InvalidTokenError(error.code);
    throw new InvalidTokenError("malformed token");
  }
}

/** The public halves of every configured key, for /.well-known/jwks.json. */
export async function publicJwks(config: Config): Promise<{ keys: JWK[] }> {
  return (await keyRing(config)).jwks;
}
