import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../src/app";
import { bindingsWith } from "./app-env";
import { BASE, randomIp } from "./auth";

/** Chaos mode (FAULTS) is accepted in development only. */
export const DEVELOPMENT = { ENVIRONMENT: "development", LOG_LEVEL: "info" };

/**
 * One request through a fresh app in development with `overrides` (FAULTS, a failing binding, a
 * shorter timeout); waits for the work it left running after the response.
 */
export async function callFaulty(path: string, init: RequestInit = {}, overrides: Record<string, unknown> = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", randomIp());
  const ctx = createExecutionContext();
  const response = await createApp().fetch(new Request(`${BASE}${path}`, { ...init, headers }), bindingsWith({ ...DEVELOPMENT, ...overrides }), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export const jsonPost = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** `select count(*) as n ...` against the test database. */
export async function count(sql: string, ...values: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql).bind(...values).first<{ n: number }>())?.n ?? -1;
}
