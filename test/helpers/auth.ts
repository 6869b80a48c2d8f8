import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { recordContentType } from "./declared-content-types";

export const BASE = "http://localhost";
export const API = `${BASE}/api/v1`;

let counter = 0;

/** A unique address per call, so tests in one file never share accounts or rate-limit buckets. */
export function uniqueEmail(label = "user"): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export const STRONG_PASSWORD = "correct horse battery staple 42";

/** Sends JSON; `ip` sets CF-Connecting-IP (the only client-IP header the API trusts). */
export function postJson(path: string, body: unknown, options: { token?: string; ip?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  headers["CF-Connecting-IP"] = options.ip ?? randomIp();
  return checkedFetch(`${API}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
}

/** SELF.fetch, with the response's content type checked against its operation's declared ones. */
export async function checkedFetch(input: string, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  return recordContentType(request, await SELF.fetch(request));
}

export function authedFetch(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", randomIp());
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  return checkedFetch(path.startsWith("http") ? path : `${API}${path}`, { ...init, headers });
}

/** A random address from the TEST-NET ranges, so per-IP limits do not couple unrelated tests. */
export function randomIp(): string {
  return `198.51.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
}

/** Polls the captured mailbox (mail is sent after the response, in waitUntil). */
export async function waitForMail(to: string, kind: "verify" | "reset" | "attempt" | "changed", afterCount = 0): Promise<{ subject: string; text: string }[]> {
  const subjects = { verify: "Confirm your email", reset: "Reset your", attempt: "Someone tried to register", changed: "password was changed" };
  // Mail goes out after the response, and registration does all its work there (issue 9): on a
  // loaded machine that can take seconds.
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const { results } = await env.DB.prepare("select subject, text_body as text from captured_mails where to_address = ? order by created_at desc, id desc")
      .bind(to.toLowerCase())
      .all<{ subject: string; text: string }>();
    const matching = results.filter((mail) => mail.subject.includes(subjects[kind]));
    if (matching.length > afterCount) return matching;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${kind} mail for ${to}`);
}

/** The token in the newest link of a mail's text. */
export function tokenFromMail(text: string): string {
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(text);
  if (!match) throw new Error(`no token in mail: ${text}`);
  return match[1]!;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * Registers, verifies (through the real emailed link) and logs in a user; optionally gives them
 * system roles directly in D1 (the admin API is tested on its own).
 */
export async function createUser(options: { roles?: string[]; password?: string; email?: string } = {}): Promise<TestUser> {
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? STRONG_PASSWORD;
  const registered = await postJson("/auth/register", { email, password, first_name: "Test", last_name: "User" });
  expect(registered.status).toBe(202);
  const [mail] = await waitForMail(email, "verify");
  const verified = await postJson("/auth/verify-email", { token: tokenFromMail(mail!.text) });
  expect(verified.status).toBe(204);
  const user = await env.DB.prepare("select id from users where email = ?").bind(email.toLowerCase()).first<{ id: string }>();
  if (options.roles) {
    await env.DB.prepare("delete from user_roles where user_id = ?").bind(user!.id).run();
    for (const role of options.roles) {
      await env.DB.prepare("insert into user_roles (user_id, role_id, created_at) select ?, id, ? from roles where name = ?").bind(user!.id, Date.now(), role).run();
    }
  }
  const tokens = await login(email, password);
  return { id: user!.id, email: email.toLowerCase(), password, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

export async function login(email: string, password: string): Promise<{ access_token: string; refresh_token: string }> {
  const response = await postJson("/auth/login", { email, password });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json();
}
