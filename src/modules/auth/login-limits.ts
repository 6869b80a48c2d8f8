import type { Context } from "hono";
import type { AppEnv } from "../../bindings";
import { normalizeEmail } from "../../lib/email";
import { jsonBodyOf } from "../../middleware/rate-limit";
import { verifyDeviceToken } from "./device-token";

interface LoginClient {
  email?: string;
  /** The device's nonce when the request carries a valid device token for this email. */
  device?: string;
}

const clients = new WeakMap<object, Promise<LoginClient>>();

/** Reads the login body once per request: whose account, and whether from a recognised device. */
function loginClient(c: Context<AppEnv>): Promise<LoginClient> {
  let client = clients.get(c.req.raw);
  if (!client) {
    client = (async () => {
      const body = (await jsonBodyOf(c)) as { email?: unknown; device_token?: unknown } | undefined;
      if (typeof body?.email !== "string") return {};
      const email = normalizeEmail(body.email);
      const device = await verifyDeviceToken(c.get("config"), email, body.device_token, Date.now());
      return { email, device };
    })();
    clients.set(c.req.raw, client);
  }
  return client;
}

/**
 * The email for `login_account`, only for clients WITHOUT a valid device token for it: unknown
 * clients share the account's failure counter (and its lock-out); a recognised device does not.
 */
export async function untrustedLoginEmail(c: Context<AppEnv>): Promise<string | undefined> {
  const client = await loginClient(c);
  return client.device === undefined ? client.email : undefined;
}

/** The key of `login_device`: the device's own failure counter, for recognised devices only. */
export async function trustedLoginDevice(c: Context<AppEnv>): Promise<string | undefined> {
  const client = await loginClient(c);
  return client.device === undefined || client.email === undefined ? undefined : `${client.email}\0${client.device}`;
}
