/**
 * WebAuthn ceremonies through @simplewebauthn/server (pinned; its crypto is WebCrypto, which
 * workerd provides). This file only adapts it to the service's configuration and rules: RP id and
 * origins from config, user verification required, attestation "none", discoverable credentials.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { Config } from "../../config";
import { base64Url } from "../../lib/tokens";
import { fromBase64Url } from "../../lib/secret-box";

/** Browsers stop the ceremony after this; the stored challenge outlives it by MFA_TOKEN_TTL. */
const CEREMONY_TIMEOUT_MS = 120_000;

export interface StoredCredential {
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
}

function relyingParty(config: Config) {
  return { rpID: config.WEBAUTHN_RP_ID ?? new URL(config.PUBLIC_BASE_URL).hostname, origins: config.WEBAUTHN_ORIGINS };
}

/** The challenge a response answers, read from its clientDataJSON; null when unreadable. */
export function challengeOf(response: { response: { clientDataJSON: string } }): string | null {
  try {
    const clientData = JSON.parse(new TextDecoder().decode(fromBase64Url(response.response.clientDataJSON))) as { challenge?: unknown };
    return typeof clientData.challenge === "string" && clientData.challenge.length <= 512 ? clientData.challenge : null;
  } catch {
    return null;
  }
}

export function registrationOptions(
  config: Config,
  user: { id: string; email: string; displayName: string },
  existing: StoredCredential[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: config.WEBAUTHN_RP_NAME,
    rpID: relyingParty(config).rpID,
    userName: user.email,
    userDisplayName: user.displayName,
    // The user handle a discoverable credential returns at sign-in: our user id, nothing personal.
    userID: new Uint8Array(new TextEncoder().encode(user.id)),
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: "none",
    excludeCredentials: existing.map((credential) => ({ id: credential.credentialId, transports: credential.transports })),
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
  });
}

export interface VerifiedRegistration {
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
}

/** Verifies an attestation against the stored challenge; null when it does not verify. */
export async function verifyRegistration(config: Config, response: RegistrationResponseJSON, challenge: string): Promise<VerifiedRegistration | null> {
  const { rpID, origins } = relyingParty(config);
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origins,
      expectedRPID: rpID,
      requireUserVerification: true,
    });
    if (!result.verified) return null;
    const info = result.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: base64Url(info.credential.publicKey),
      signCount: info.credential.counter,
      transports: info.credential.transports ?? response.response.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
    };
  } catch {
    // The library throws for every malformed or mismatching response: all are "not verified".
    return null;
  }
}

export function authenticationOptions(config: Config, allowed: StoredCredential[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: relyingParty(config).rpID,
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification: "required",
    allowCredentials: allowed.map((credential) => ({ id: credential.credentialId, transports: credential.transports })),
  });
}

export interface VerifiedAssertion {
  newCounter: number;
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
}

/** Verifies an assertion by a stored credential against the stored challenge; null when it does not verify. */
export async function verifyAssertion(config: Config, response: AuthenticationResponseJSON, challenge: string, credential: StoredCredential): Promise<VerifiedAssertion | null> {
  const { rpID, origins } = relyingParty(config);
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origins,
      expectedRPID: rpID,
      requireUserVerification: true,
      credential: { id: credential.credentialId, publicKey: fromBase64Url(credential.publicKey), counter: credential.signCount, transports: credential.transports },
    });
    if (!result.verified) return null;
    const info = result.authenticationInfo;
    return { newCounter: info.newCounter, deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp };
  } catch {
    return null;
  }
}

/**
 * RFC 8176 method of a passkey: a device-bound key is a hardware key ("hwk"); a synced one
 * (backup eligible) lives in software across devices ("swk").
 */
export function passkeyMethod(deviceType: "singleDevice" | "multiDevice"): "hwk" | "swk" {
  return deviceType === "singleDevice" ? "hwk" : "swk";
}
