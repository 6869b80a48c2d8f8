import { SELF } from "cloudflare:test";
import { BASE, randomIp } from "./auth";
import { call, expectJson } from "./rbac";

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  owner_id: string;
  scopes: string[];
  expires_at: string;
  active: boolean;
}

/** Creates an API key through the API (as a signed-in user) and returns it with its secret. */
export async function createKey(token: string, body: Record<string, unknown>): Promise<CreatedKey> {
  return expectJson<CreatedKey>(await call(token, "POST", "/api-keys", { name: "test key", ...body }), 201);
}

/** A form-encoded POST (the OAuth endpoints), with a bearer credential when given. */
export function postForm(path: string, fields: Record<string, string>, bearer?: string): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": randomIp() };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  return SELF.fetch(`${BASE}${path}`, { method: "POST", headers, body: new URLSearchParams(fields).toString() });
}

/** Introspects `token` with an introspection key and returns the JSON answer. */
export async function introspect(introspector: string, token: string): Promise<Record<string, unknown>> {
  return expectJson(await postForm("/oauth/introspect", { token }, introspector), 200);
}
