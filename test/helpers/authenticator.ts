/**
 * A software WebAuthn authenticator for tests: real ES256 keys (WebCrypto), real CBOR
 * attestation objects (format "none") and real signed assertions, so the server verifies them
 * exactly as it would a browser's. Flags are switchable to produce the bad cases (no user
 * verification, wrong origin, replayed counters).
 */

type CborValue = number | string | Uint8Array | CborValue[] | Map<CborValue, CborValue> | { [key: string]: CborValue };

function cborHead(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 256) return [(major << 5) | 24, length];
  if (length < 65_536) return [(major << 5) | 25, length >> 8, length & 0xff];
  return [(major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

/** Minimal CBOR (RFC 8949) encoding: the subset attestation objects and COSE keys use. */
export function cbor(value: CborValue): Uint8Array {
  const out: number[] = [];
  const write = (item: CborValue): void => {
    if (typeof item === "number") out.push(...(item >= 0 ? cborHead(0, item) : cborHead(1, -1 - item)));
    else if (typeof item === "string") {
      const bytes = new TextEncoder().encode(item);
      out.push(...cborHead(3, bytes.length), ...bytes);
    } else if (item instanceof Uint8Array) out.push(...cborHead(2, item.length), ...item);
    else if (Array.isArray(item)) {
      out.push(...cborHead(4, item.length));
      item.forEach(write);
    } else {
      const entries = item instanceof Map ? [...item.entries()] : Object.entries(item);
      out.push(...cborHead(5, entries.length));
      for (const [key, entry] of entries) {
        write(key);
        write(entry);
      }
    }
  };
  write(value);
  return new Uint8Array(out);
}

export function b64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromB64url(text: string): Uint8Array {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));

/** WebCrypto signs ECDSA as r||s; WebAuthn wants an ASN.1 DER SEQUENCE of two INTEGERs. */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    let body = bytes.slice(start);
    if (body[0]! & 0x80) body = concat(new Uint8Array([0]), body);
    return concat(new Uint8Array([0x02, body.length]), body);
  };
  const sequence = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)));
  return concat(new Uint8Array([0x30, sequence.length]), sequence);
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

export interface AuthenticatorOptions {
  origin: string;
  /** Synced passkey (backup eligible and backed up) instead of a device-bound one. */
  synced?: boolean;
  /** Set false to leave out the UV flag (a ceremony without user verification). */
  userVerified?: boolean;
}

interface Credential {
  id: Uint8Array;
  keys: CryptoKeyPair;
  userHandle: string;
  rpId: string;
  counter: number;
}

export class SoftwareAuthenticator {
  readonly credentials: Credential[] = [];
  origin: string;
  synced: boolean;
  userVerified: boolean;

  constructor(options: AuthenticatorOptions) {
    this.origin = options.origin;
    this.synced = options.synced ?? false;
    this.userVerified = options.userVerified ?? true;
  }

  private flags(extra = 0): number {
    return FLAG_UP | (this.userVerified ? FLAG_UV : 0) | (this.synced ? FLAG_BE | FLAG_BS : 0) | extra;
  }

  private clientData(type: "webauthn.create" | "webauthn.get", challenge: string): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** navigator.credentials.create(): a new ES256 credential and its "none" attestation. */
  async create(options: { challenge: string; rp: { id?: string }; user: { id: string } }) {
    const rpId = options.rp.id!;
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", keys.publicKey)) as JsonWebKey;
    const id = crypto.getRandomValues(new Uint8Array(16));
    const cose = cbor(new Map<CborValue, CborValue>([[1, 2], [3, -7], [-1, 1], [-2, fromB64url(jwk.x!)], [-3, fromB64url(jwk.y!)]]));
    const idLength = new Uint8Array([id.length >> 8, id.length & 0xff]);
    const authData = concat(await sha256(new TextEncoder().encode(rpId)), new Uint8Array([this.flags(FLAG_AT)]), new Uint8Array(4), new Uint8Array(16), idLength, id, cose);
    this.credentials.push({ id, keys, userHandle: options.user.id, rpId, counter: 0 });
    const clientDataJSON = this.clientData("webauthn.create", options.challenge);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: "public-key" as const,
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(cbor({ fmt: "none", attStmt: {}, authData })), transports: ["internal"] },
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get(): an assertion by the credential the options allow (or the newest). */
  async get(options: { challenge: string; rpId?: string; allowCredentials?: { id: string }[] }, pick?: Credential) {
    const allowed = options.allowCredentials?.map((entry) => entry.id) ?? [];
    const credential = pick ?? [...this.credentials].reverse().find((entry) => allowed.length === 0 || allowed.includes(b64url(entry.id)));
    if (!credential) throw new Error("no credential for these options");
    credential.counter += 1;
    const counter = new Uint8Array([(credential.counter >>> 24) & 0xff, (credential.counter >> 16) & 0xff, (credential.counter >> 8) & 0xff, credential.counter & 0xff]);
    const authData = concat(await sha256(new TextEncoder().encode(options.rpId ?? credential.rpId)), new Uint8Array([this.flags()]), counter);
    const clientDataJSON = this.clientData("webauthn.get", options.challenge);
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, credential.keys.privateKey, signed));
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: "public-key" as const,
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(derSignature(raw)), userHandle: credential.userHandle },
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {},
    };
  }
}
