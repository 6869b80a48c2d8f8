import { env } from "cloudflare:test";
import { expect } from "vitest";
import { authedFetch, createUser, STRONG_PASSWORD, uniqueEmail, type TestUser } from "./auth";

/** A JSON request with a bearer token; `body` is sent as JSON when given. */
export function call(token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return authedFetch(path, token, { method, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** The JSON body after asserting the status (the body is printed when the status differs). */
export async function expectJson<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** The id of a role, read from D1. */
export async function roleIdOf(name: string): Promise<string> {
  const row = await env.DB.prepare("select id from roles where name = ?").bind(name).first<{ id: string }>();
  if (!row) throw new Error(`no role ${name}`);
  return row.id;
}

/** An administrator (the admin role set in D1, as the bootstrap script does). */
export function createAdmin(): Promise<TestUser> {
  return createUser({ roles: ["admin"] });
}

/** A body for POST /users. */
export function newUserBody(overrides: Record<string, unknown> = {}) {
  return { email: uniqueEmail("created"), password: STRONG_PASSWORD, first_name: "Grace", last_name: "Hopper", ...overrides };
}

export interface AuditRowJson {
  seq: number;
  action: string;
  actor_user_id: string | null;
  target_id: string | null;
  changes: Record<string, unknown> | null;
}

/** The newest audit rows for a target, straight from D1. */
export async function auditEventsFor(targetId: string): Promise<AuditRowJson[]> {
  const { results } = await env.DB.prepare("select seq, action, actor_user_id, target_id, changes from audit_logs where target_id = ? order by seq desc")
    .bind(targetId)
    .all<{ seq: number; action: string; actor_user_id: string | null; target_id: string | null; changes: string | null }>();
  return results.map((row) => ({ ...row, changes: row.changes === null ? null : (JSON.parse(row.changes) as Record<string, unknown>) }));
}
