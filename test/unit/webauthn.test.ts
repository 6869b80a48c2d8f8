import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config";
import { parseConfig } from "../../src/env";
import { authenticationOptions, challengeOf, passkeyMethod, registrationOptions, verifyAssertion, verifyRegistration } from "../../src/modules/mfa/webauthn";
import { b64url, SoftwareAuthenticator } from "../helpers/authenticator";

function config(overrides: Record<string, string> = {}): Config {
  const result = parseConfig({ ...env, ...overrides } as Record<string, unknown>);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

const USER = { id: "0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47", email: "ada@example.com", displayName: "Ada Lovelace" };

async function registered(cfg: Config, authenticator: SoftwareAuthenticator) {
  const options = await registrationOptions(cfg, USER, []);
  const response = await authenticator.create(options);
  const verified = await verifyRegistration(cfg, response as never, options.challenge);
  return { options, response, verified };
}

describe("WebAuthn ceremonies with @simplewebauthn/server inside workerd", () => {
  it("registration options: RP id from PUBLIC_BASE_URL, user verification and a discoverable credential required, attestation none", async () => {
    const options = await registrationOptions(config(), USER, [{ credentialId: "AAAA", publicKey: "", signCount: 0, transports: ["usb"] }]);
    expect(options.rp).toEqual({ name: "Edge Auth", id: "localhost" });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(options.attestation).toBe("none");
    expect(options.excludeCredentials).toEqual([{ id: "AAAA", type: "public-key", transports: ["usb"] }]);
    expect(options.user.id).toBe(b64url(new TextEncoder().encode(USER.id)));
    expect(options.challenge.length).toBeGreaterThanOrEqual(43);
  });

  it("verifies a software authenticator's attestation and then its assertion; the counter moves", async () => {
    const cfg = config();
    const authenticator = new SoftwareAuthenticator({ origin: "http://localhost" });
    const { verified, response } = await registered(cfg, authenticator);
    expect(verified).toMatchObject({ credentialId: response.id, deviceType: "singleDevice", backedUp: false, signCount: 0 });

    const request = await authenticationOptions(cfg, [{ ...verified!, transports: [] }]);
    expect(request.userVerification).toBe("required");
    const assertion = await authenticator.get(request);
    expect(challengeOf(assertion)).toBe(request.challenge);
    const result = await verifyAssertion(cfg, assertion as never, request.challenge, verified!);
    expect(result).toEqual({ newCounter: 1, deviceType: "singleDevice", backedUp: false });
    expect(passkeyMethod("singleDevice")).toBe("hwk");
  });

  it("a synced passkey reports multiDevice and backed up (swk)", async () => {
    const { verified } = await registered(config(), new SoftwareAuthenticator({ origin: "http://localhost", synced: true }));
    expect(verified).toMatchObject({ deviceType: "multiDevice", backedUp: true });
    expect(passkeyMethod("multiDevice")).toBe("swk");
  });

  it("refuses: no user verification, a foreign origin, another challenge, a replayed counter, a forged signature", async () => {
    const cfg = config();
    expect((await registered(cfg, new SoftwareAuthenticator({ origin: "http://localhost", userVerified: false }))).verified).toBeNull();
    expect((await registered(cfg, new SoftwareAuthenticator({ origin: "https://evil.example" }))).verified).toBeNull();

    const authenticator = new SoftwareAuthenticator({ origin: "http://localhost" });
    const { verified } = await registered(cfg, authenticator);
    const request = await authenticationOptions(cfg, [verified!]);
    const assertion = await authenticator.get(request);
    expect(await verifyAssertion(cfg, assertion as never, "another-challenge", verified!)).toBeNull();
    // The stored counter is already past what the authenticator presents: a cloned key.
    expect(await verifyAssertion(cfg, assertion as never, request.challenge, { ...verified!, signCount: 5 })).toBeNull();
    const forged = { ...assertion, response: { ...assertion.response, signature: b64url(new Uint8Array(70)) } };
    expect(await verifyAssertion(cfg, forged as never, request.challenge, verified!)).toBeNull();
    authenticator.userVerified = false;
    const unverified = await authenticator.get(request);
    expect(await verifyAssertion(cfg, unverified as never, request.challenge, verified!)).toBeNull();
  });

  it("WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS come from configuration and must agree", () => {
    const cfg = config({ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://auth.example.com,https://example.com" });
    expect(cfg.WEBAUTHN_RP_ID).toBe("example.com");
    expect(cfg.WEBAUTHN_ORIGINS).toEqual(["https://auth.example.com", "https://example.com"]);
    const bad = parseConfig({ ...env, WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://evil.test" } as Record<string, unknown>);
    expect(bad.ok).toBe(false);
    expect(challengeOf({ response: { clientDataJSON: "not json" } })).toBeNull();
  });
});
