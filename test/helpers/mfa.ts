import { decodeBase32IgnorePadding } from "@oslojs/encoding";
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { totpCode, totpStep } from "../../src/modules/mfa/totp";
import { postJson, type TestUser } from "./auth";
import { SoftwareAuthenticator } from "./authenticator";
import { call, expectJson } from "./rbac";

export interface TotpUser extends TestUser {
  secret: Uint8Array;
  recoveryCodes: string[];
}

/** Enrolls and confirms TOTP for a signed-in user through the API; returns the secret and codes. */
export async function enrollTotp(user: TestUser): Promise<TotpUser> {
  const started = await expectJson<{ secret: string }>(await call(user.accessToken, "POST", "/auth/mfa/totp"), 201);
  const secret = decodeBase32IgnorePadding(started.secret);
  const confirmed = await expectJson<{ recovery_codes: string[] }>(await call(user.accessToken, "POST", "/auth/mfa/totp/confirm", { code: totpCode(secret, Date.now() - 30_000) }), 200);
  return { ...user, secret, recoveryCodes: confirmed.recovery_codes };
}

/**
 * A code the server will accept now: the replay rule allows each step once, so the stored last
 * step is moved back first (as if 30 s had passed since the previous code).
 */
export async function freshTotp(user: { id: string; secret: Uint8Array }): Promise<string> {
  await env.DB.prepare("update totp_factors set last_used_step = ? where user_id = ?").bind(totpStep(Date.now()) - 2, user.id).run();
  return totpCode(user.secret, Date.now());
}

/** POST /auth/login expecting the mfa_required step; returns its body. */
export async function loginToMfa(user: { email: string; password: string }): Promise<{ status: string; mfa_token: string; methods: string[]; expires_in: number }> {
  const response = await postJson("/auth/login", { email: user.email, password: user.password });
  return expectJson(response, 200);
}

/** The payload of a JWT (no verification: the server verified it). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(atob(token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
}

/** Registers a passkey for a signed-in user through the API with a software authenticator. */
export async function registerPasskey(user: TestUser, authenticator = new SoftwareAuthenticator({ origin: "http://localhost" }), name?: string) {
  const { options } = await expectJson<{ options: { challenge: string; rp: { id: string }; user: { id: string } } }>(
    await call(user.accessToken, "POST", "/auth/passkeys/registration/options"),
    200,
  );
  const credential = await authenticator.create(options);
  const response = await call(user.accessToken, "POST", "/auth/passkeys/registration", { credential, ...(name ? { name } : {}) });
  const body = await expectJson<{ passkey: { id: string; name: string; device_type: string }; recovery_codes?: string[] }>(response, 201);
  expect(body.passkey.id).toBeTruthy();
  return { authenticator, ...body };
}

/** Marks the session's last second-factor proof as older than the step-up window. */
export async function expireStepUp(sessionId: string): Promise<void> {
  await env.DB.prepare("update sessions set mfa_verified_at = ? where id = ?").bind(Date.now() - 3_600_000, sessionId).run();
}
