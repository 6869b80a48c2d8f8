import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createKey, introspect, postForm } from "../helpers/api-keys";
import { expectProblem } from "../helpers/app-env";
import { authedFetch, BASE, createUser, postJson, type TestUser } from "../helpers/auth";
import { claimsOf, enrollTotp, freshTotp, loginToMfa } from "../helpers/mfa";
import { call, createAdmin, expectJson } from "../helpers/rbac";

let admin: TestUser;
let introspector: string;

beforeAll(async () => {
  admin = await createAdmin();
  introspector = (await createKey(admin.accessToken, { name: "resource server", scopes: ["tokens:introspect"] })).key;
});

describe("GET /.well-known/oauth-authorization-server", () => {
  it("publishes the issuer, keys and the endpoints that really exist", async () => {
    const response = await SELF.fetch(`${BASE}/.well-known/oauth-authorization-server`);
    const metadata = await expectJson<Record<string, unknown>>(response, 200);
    expect(metadata).toMatchObject({
      issuer: "http://localhost",
      jwks_uri: "http://localhost/.well-known/jwks.json",
      introspection_endpoint: "http://localhost/oauth/introspect",
      revocation_endpoint: "http://localhost/oauth/revoke",
      revocation_endpoint_auth_methods_supported: ["none"],
      response_types_supported: [],
      access_token_signing_alg_values_supported: ["EdDSA"],
      access_token_type: "at+jwt",
      access_token_audience: "edge-auth-api",
    });
    expect(metadata).not.toHaveProperty("token_endpoint");
    expect(metadata).not.toHaveProperty("authorization_endpoint");
  });
});

describe("POST /oauth/introspect", () => {
  it("needs an API key holding tokens:introspect", async () => {
    const user = await createUser();
    await expectProblem(await postForm("/oauth/introspect", { token: user.accessToken }), 401, "unauthorized");
    await expectProblem(await postForm("/oauth/introspect", { token: user.accessToken }, admin.accessToken), 403, "forbidden");
    const weak = await createKey(admin.accessToken, { scopes: ["profile:read"] });
    const denied = await expectProblem(await postForm("/oauth/introspect", { token: user.accessToken }, weak.key), 403, "forbidden");
    expect(denied.missing_permissions).toEqual(["tokens:introspect"]);
  });

  it("describes a live access token and reflects logout at once", async () => {
    const user = await createUser();
    const active = await introspect(introspector, user.accessToken);
    expect(active).toMatchObject({
      active: true,
      token_use: "access_token",
      token_type: "Bearer",
      sub: user.id,
      sid: expect.any(String),
      iss: "http://localhost",
      aud: "edge-auth-api",
      roles: ["user"],
      permissions: expect.arrayContaining(["files:read", "profile:read"]),
    });
    expect(active.exp as number).toBeGreaterThan(active.iat as number);
    expect(active).toMatchObject({ acr: "aal1", amr: ["pwd"], auth_time: expect.any(Number) });
    expect((await postJson("/auth/logout", { refresh_token: user.refreshToken })).status).toBe(204);
    expect(await introspect(introspector, user.accessToken)).toEqual({ active: false });
  });

  it("reports the assurance an access token was issued with: aal2 and otp after a second factor", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    const signedIn = await expectJson<{ access_token: string }>(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 200);
    const described = await introspect(introspector, signedIn.access_token);
    expect(described).toMatchObject({ active: true, acr: "aal2", amr: expect.arrayContaining(["pwd", "otp", "mfa"]) });
    expect(described.auth_time).toBe(claimsOf(signedIn.access_token).auth_time);
  });

  it("reflects a disabled user and a removed role at once", async () => {
    const manager = await createUser({ roles: ["manager"] });
    expect((await introspect(introspector, manager.accessToken)).roles).toEqual(["manager"]);
    await expectJson(await call(admin.accessToken, "PUT", `/users/${manager.id}/roles`, { roles: ["guest"] }), 200);
    const demoted = await introspect(introspector, manager.accessToken);
    expect(demoted).toMatchObject({ active: true, roles: ["guest"] });
    expect(demoted.permissions).not.toContain("users:read");
    await expectJson(await call(admin.accessToken, "PATCH", `/users/${manager.id}`, { is_active: false }), 200);
    expect(await introspect(introspector, manager.accessToken)).toEqual({ active: false });
  });

  it("describes refresh tokens until they are rotated out", async () => {
    const user = await createUser();
    expect(await introspect(introspector, user.refreshToken)).toMatchObject({ active: true, token_use: "refresh_token", sub: user.id });
    expect((await postJson("/auth/refresh", { refresh_token: user.refreshToken })).status).toBe(200);
    expect(await introspect(introspector, user.refreshToken)).toEqual({ active: false });
  });

  it("describes API keys with their effective permissions until revoked", async () => {
    const user = await createUser();
    const key = await createKey(user.accessToken, { scopes: ["files:read"] });
    expect(await introspect(introspector, key.key)).toMatchObject({
      active: true,
      token_use: "api_key",
      sub: user.id,
      client_id: key.id,
      scope: "files:read",
      permissions: ["files:read"],
    });
    await call(user.accessToken, "DELETE", `/api-keys/${key.id}`);
    expect(await introspect(introspector, key.key)).toEqual({ active: false });
  });

  it("answers only {active:false} for anything else", async () => {
    for (const token of ["garbage", "a.b.c", "rt_nope", `eak_${"A".repeat(43)}`, admin.accessToken.slice(0, -2)]) {
      expect(await introspect(introspector, token), token).toEqual({ active: false });
    }
  });

  it("takes a form body: JSON is a 415, a missing token a 422", async () => {
    const json = await SELF.fetch(`${BASE}/oauth/introspect`, {
      method: "POST",
      headers: { Authorization: `Bearer ${introspector}`, "Content-Type": "application/json" },
      body: JSON.stringify({ token: "x" }),
    });
    expect(json.status).toBe(415);
    await json.body?.cancel();
    await expectProblem(await postForm("/oauth/introspect", {}, introspector), 422, "validation_failed");
  });
});

describe("POST /oauth/revoke", () => {
  it("ends the session of a refresh token or an access token", async () => {
    const first = await createUser();
    expect((await postForm("/oauth/revoke", { token: first.refreshToken })).status).toBe(200);
    await expectProblem(await authedFetch("/users/me", first.accessToken), 401, "unauthorized");
    const second = await createUser();
    expect((await postForm("/oauth/revoke", { token: second.accessToken, token_type_hint: "access_token" })).status).toBe(200);
    await expectProblem(await authedFetch("/users/me", second.accessToken), 401, "unauthorized");
    expect(await introspect(introspector, second.refreshToken)).toEqual({ active: false });
  });

  it("revokes an API key by possession alone", async () => {
    const user = await createUser();
    const key = await createKey(user.accessToken, { scopes: ["profile:read"] });
    expect((await postForm("/oauth/revoke", { token: key.key })).status).toBe(200);
    await expectProblem(await authedFetch("/users/me", key.key), 401, "unauthorized");
  });

  it("answers 200 to unknown tokens", async () => {
    for (const token of ["garbage", "rt_unknown", `eak_${"B".repeat(43)}`, "x.y.z"]) {
      expect((await postForm("/oauth/revoke", { token })).status, token).toBe(200);
    }
  });
});

describe("ACCESS_TOKEN_CLAIMS", () => {
  const payloadOf = (token: string) => JSON.parse(atob(token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;

  it("embeds roles and permissions at issue time only when configured", async () => {
    const user = await createUser({ roles: ["guest"] });
    expect(payloadOf(user.accessToken)).not.toHaveProperty("roles");
    const { callApp } = await import("../helpers/app-env");
    const login = await callApp(
      `${BASE}/api/v1/auth/login`,
      { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.77" }, body: JSON.stringify({ email: user.email, password: user.password }) },
      { env: { ACCESS_TOKEN_CLAIMS: "roles,permissions" } },
    );
    const { access_token } = await expectJson<{ access_token: string }>(login, 200);
    expect(payloadOf(access_token)).toMatchObject({ sub: user.id, roles: ["guest"], permissions: ["account:security", "files:read", "profile:read"] });
  });
});
