import { SELF } from "cloudflare:test";
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/app-env";
import { API, createUser, postJson, randomIp, type TestUser } from "../helpers/auth";
import { forgeToken, genuineClaims, hmacToken, rawSignedToken, testPublicJwk, unsignedToken, withPayload } from "../helpers/forge-token";

/** GET /users/me with a raw Authorization header (or none). */
function me(authorization?: string | string[]): Promise<Response> {
  const headers = new Headers({ "CF-Connecting-IP": randomIp() });
  for (const value of [authorization ?? []].flat()) headers.append("Authorization", value);
  return SELF.fetch(`${API}/users/me`, { headers });
}

/** Every refusal of a bearer token looks the same: 401 problem+json with the RFC 6750 challenge. */
async function expectInvalidToken(response: Response): Promise<void> {
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  await expectProblem(response, 401, "unauthorized");
}

let user: TestUser;
let claims: () => JWTPayload;

beforeAll(async () => {
  user = await createUser();
  const sessionId = decodeJwt(user.accessToken).sid as string;
  claims = () => genuineClaims({ userId: user.id, sessionId });
});

describe("bearer tokens: the control cases", () => {
  it("accepts the issued token and a correctly forged one (so every refusal below is caused by its one deviation)", async () => {
    expect((await me(`Bearer ${user.accessToken}`)).status).toBe(200);
    expect((await me(`Bearer ${await forgeToken(claims())}`)).status).toBe(200);
    expect((await me(`Bearer ${await rawSignedToken({ alg: "EdDSA", typ: "at+jwt", kid: "test-key-1" }, claims())}`)).status).toBe(200);
  });

  it("verifies with the published JWKS, as another service at the edge would", async () => {
    const jwks = await (await SELF.fetch("http://localhost/.well-known/jwks.json")).json<{ keys: JWK[] }>();
    const { payload, protectedHeader } = await jwtVerify(user.accessToken, createLocalJWKSet({ keys: jwks.keys }), {
      issuer: "http://localhost",
      audience: "edge-auth-api",
      typ: "at+jwt",
      algorithms: ["EdDSA", "ES256"],
    });
    expect(protectedHeader.kid).toBe("test-key-1");
    expect(payload.sub).toBe(user.id);
  });

  it("ignores jku, x5u and jwk headers on a token its own key signed (never followed, never trusted)", async () => {
    const attacker = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const header = { jku: "https://evil.example/jwks.json", x5u: "https://evil.example/cert.pem", jwk: await exportJWK(attacker.publicKey) };
    expect((await me(`Bearer ${await forgeToken(claims(), header)}`)).status).toBe(200);
  });

  it("accepts the scheme in any case (RFC 7235: auth-scheme is case-insensitive)", async () => {
    expect((await me(`bearer ${user.accessToken}`)).status).toBe(200);
    expect((await me(`BEARER ${user.accessToken}`)).status).toBe(200);
  });
});

describe("bearer tokens: malformed Authorization headers", () => {
  const cases: Array<[string, () => string | string[] | undefined]> = [
    ["no header", () => undefined],
    ["an empty header", () => ""],
    ["Basic credentials", () => `Basic ${btoa(`${user.email}:${user.password}`)}`],
    ["Bearer with nothing", () => "Bearer"],
    ["Bearer with only spaces", () => "Bearer    "],
    ["the token without a scheme", () => user.accessToken],
    ["two tokens in one header", () => `Bearer ${user.accessToken} ${user.accessToken}`],
    ["two comma-separated credentials", () => `Bearer ${user.accessToken}, Bearer ${user.accessToken}`],
    ["two Authorization headers", () => [`Bearer ${user.accessToken}`, `Bearer ${user.accessToken}`]],
    ["a token with a trailing quote", () => `Bearer "${user.accessToken}"`],
    ["a token in the DPoP scheme", () => `DPoP ${user.accessToken}`],
  ];
  for (const [name, header] of cases) {
    it(`refuses ${name}`, async () => {
      await expectInvalidToken(await me(header()));
    });
  }

  it("ignores an access token in the query string or a cookie", async () => {
    // A token in the URL is never read: the parameter is unknown (422 naming it), so nothing authenticates.
    const inQuery = await SELF.fetch(`${API}/users/me?access_token=${user.accessToken}`);
    expect(inQuery.status).toBe(422);
    expect((await inQuery.json<{ unknown_parameters: string[] }>()).unknown_parameters).toEqual(["access_token"]);
    await expectInvalidToken(await SELF.fetch(`${API}/users/me`, { headers: { Cookie: `access_token=${user.accessToken}` } }));
  });
});

describe("bearer tokens: forged and altered JWTs", () => {
  const attacks: Array<[string, () => Promise<string>]> = [
    ["alg none (empty signature)", async () => unsignedToken(claims())],
    ["alg none with the real signature appended", async () => `${unsignedToken(claims())}${user.accessToken.split(".")[2]}`],
    ["alg NONE in capitals", async () => unsignedToken(claims(), { alg: "NONE", typ: "at+jwt", kid: "test-key-1" })],
    ["another Ed25519 key with the same kid", async () => forgeToken(claims(), {}, (await generateKeyPair("EdDSA", { crv: "Ed25519" })).privateKey)],
    [
      "HS256 signed with the public key bytes (algorithm confusion)",
      async () => hmacToken(claims(), Uint8Array.from(atob(testPublicJwk().x!.replaceAll("-", "+").replaceAll("_", "/")), (char) => char.charCodeAt(0))),
    ],
    ["HS256 signed with the public JWK's JSON", async () => hmacToken(claims(), new TextEncoder().encode(JSON.stringify(testPublicJwk())))],
    ["the issued token with sub changed", async () => withPayload(user.accessToken, (payload) => ({ ...payload, sub: "0193a6f0-0000-7000-8000-000000000001" }))],
    ["the issued token with exp extended", async () => withPayload(user.accessToken, (payload) => ({ ...payload, exp: payload.exp! + 86_400 }))],
    ["the issued token without its signature", async () => user.accessToken.split(".").slice(0, 2).join(".") + "."],
    ["expired beyond the 30 s skew", async () => forgeToken({ ...claims(), iat: Math.floor(Date.now() / 1000) - 1_000, exp: Math.floor(Date.now() / 1000) - 60 })],
    ["issued in the future", async () => forgeToken({ ...claims(), iat: Math.floor(Date.now() / 1000) + 300 })],
    ["not valid before a future nbf", async () => forgeToken({ ...claims(), nbf: Math.floor(Date.now() / 1000) + 300 })],
    ["a wrong issuer", async () => forgeToken({ ...claims(), iss: "https://evil.example" })],
    ["a wrong audience", async () => forgeToken({ ...claims(), aud: "some-other-api" })],
    ["typ JWT", async () => forgeToken(claims(), { typ: "JWT" })],
    ["no typ", async () => forgeToken(claims(), { typ: undefined })],
    ["typ of another token kind (refresh)", async () => forgeToken(claims(), { typ: "rt+jwt" })],
    ["an unknown kid", async () => forgeToken(claims(), { kid: "test-key-2" })],
    ["a path-like kid", async () => forgeToken(claims(), { kid: "../../etc/passwd" })],
    ["no kid", async () => forgeToken(claims(), { kid: undefined })],
    [
      "an attacker key embedded in the jwk header",
      async () => {
        const attacker = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
        return forgeToken(claims(), { jwk: await exportJWK(attacker.publicKey) }, attacker.privateKey);
      },
    ],
    ["an attacker key behind jku", async () => forgeToken(claims(), { jku: "https://evil.example/jwks.json" }, (await generateKeyPair("EdDSA", { crv: "Ed25519" })).privateKey)],
    ["an attacker key behind x5u", async () => forgeToken(claims(), { x5u: "https://evil.example/cert.pem" }, (await generateKeyPair("EdDSA", { crv: "Ed25519" })).privateKey)],
    ["the Ed25519 key's kid with alg ES256 in the header", async () => rawSignedToken({ alg: "ES256", typ: "at+jwt", kid: "test-key-1" }, claims())],
    ["an unknown critical header", async () => rawSignedToken({ alg: "EdDSA", typ: "at+jwt", kid: "test-key-1", crit: ["x-evil"], "x-evil": true }, claims())],
  ];
  for (const [name, token] of attacks) {
    it(`refuses ${name}`, async () => {
      await expectInvalidToken(await me(`Bearer ${await token()}`));
    });
  }

  it("accepts expiry and future iat/nbf within the 30 s skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await me(`Bearer ${await forgeToken({ ...claims(), iat: now - 900, exp: now - 10 })}`)).status).toBe(200);
    expect((await me(`Bearer ${await forgeToken({ ...claims(), iat: now + 10, nbf: now + 10 })}`)).status).toBe(200);
  });

  for (const claim of ["sub", "jti", "sid", "exp", "iat"]) {
    it(`refuses a token without ${claim}`, async () => {
      const partial = claims();
      delete partial[claim];
      await expectInvalidToken(await me(`Bearer ${await forgeToken(partial)}`));
    });
  }

  it("refuses a validly signed token for a session that is not the user's, or a user that does not exist", async () => {
    const other = await createUser();
    const otherSession = decodeJwt(other.accessToken).sid as string;
    await expectInvalidToken(await me(`Bearer ${await forgeToken({ ...claims(), sid: otherSession })}`));
    await expectInvalidToken(await me(`Bearer ${await forgeToken({ ...claims(), sid: crypto.randomUUID() })}`));
    await expectInvalidToken(await me(`Bearer ${await forgeToken({ ...claims(), sub: crypto.randomUUID() })}`));
  });
});

describe("token kinds are not interchangeable", () => {
  it("refuses a refresh token presented as an access token", async () => {
    await expectInvalidToken(await me(`Bearer ${user.refreshToken}`));
  });

  it("refuses an access token presented as a refresh token (401, not a new pair) and for logout", async () => {
    const response = await postJson("/auth/refresh", { refresh_token: user.accessToken });
    await expectProblem(response, 401, "invalid_refresh_token");
    // Logout answers 204 for any unknown token and ends nothing.
    expect((await postJson("/auth/logout", { refresh_token: user.accessToken })).status).toBe(204);
    expect((await me(`Bearer ${user.accessToken}`)).status).toBe(200);
  });

  it("refuses emailed tokens presented as access or refresh tokens", async () => {
    const emailed = "A".repeat(43);
    await expectInvalidToken(await me(`Bearer ${emailed}`));
    await expectProblem(await postJson("/auth/refresh", { refresh_token: emailed }), 401, "invalid_refresh_token");
  });
});
