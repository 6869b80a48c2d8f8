import { env } from "cloudflare:test";
import { expect } from "vitest";
import { call, expectJson } from "./rbac";

/** POST /api/v1<path> as `token` with a JSON body. */
export const aiPost = (token: string, path: string, body: unknown) => call(token, "POST", path, body);

/** Sets a system or custom role's AI policy directly in D1 (the roles API is tested on its own). */
export async function setRolePolicy(role: string, dailyTokens: number | null, monthlyMicroUsd: number | null = null): Promise<void> {
  await env.DB.prepare("update roles set ai_daily_token_limit = ?, ai_monthly_cost_limit_micro_usd = ? where name = ?").bind(dailyTokens, monthlyMicroUsd, role).run();
}

/** Creates a custom role holding ai:use with the given policy; returns its name. */
export async function aiRole(dailyTokens: number | null, monthlyMicroUsd: number | null = null): Promise<string> {
  const name = `ai-${crypto.randomUUID().slice(0, 8)}`;
  const now = Date.now();
  const id = crypto.randomUUID();
  await env.DB.prepare("insert into roles (id, name, description, is_system, ai_daily_token_limit, ai_monthly_cost_limit_micro_usd, created_at, updated_at) values (?, ?, '', 0, ?, ?, ?, ?)")
    .bind(id, name, dailyTokens, monthlyMicroUsd, now, now)
    .run();
  await env.DB.prepare("insert into role_permissions (role_id, permission_id) select ?, id from permissions where name in ('ai:use', 'profile:read', 'files:read', 'files:write')").bind(id).run();
  return name;
}

export interface UsageRowJson {
  user_id: string;
  role: string | null;
  model: string;
  endpoint: string;
  input_tokens: number;
  output_tokens: number;
  cost_micro_usd: number;
  latency_ms: number;
  ttfb_ms: number | null;
  outcome: string;
  error_code: string | null;
  request_id: string | null;
  prompt: string | null;
  completion: string | null;
}

/** The user's usage rows once at least `count` exist (they are written after the response). */
export async function usageRows(userId: string, count = 1): Promise<UsageRowJson[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { results } = await env.DB.prepare("select * from ai_usage where user_id = ? order by created_at, id").bind(userId).all<UsageRowJson>();
    if (results.length >= count) return results;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`fewer than ${count} usage rows for ${userId}`);
}

/** Parses a text/event-stream body into events. */
export function parseSse(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

export async function chat(token: string, body: Record<string, unknown>, status = 200) {
  return expectJson<{ id: string; model: string; content: string; usage: { input_tokens: number; output_tokens: number }; cost_usd: number; screening: { verdict: string; score: number; categories: string[] } }>(
    await aiPost(token, "/ai/chat", body),
    status,
  );
}

export function expectQuotaHeaders(response: Response, policy = "ai-tokens"): void {
  expect(response.headers.get("RateLimit-Policy")).toMatch(new RegExp(`"${policy}";q=\\d+;w=\\d+`));
  expect(response.headers.get("Retry-After")).toMatch(/^\d+$/);
}

/** A 429 quota-exceeded problem (the IANA type, not /problems/<code>); returns the body. */
export async function expectQuotaProblem(response: Response): Promise<Record<string, unknown>> {
  expect(response.status).toBe(429);
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 429, code: "rate_limited", type: "https://iana.org/assignments/http-problem-types#quota-exceeded" });
  expect(body.instance).toBe(response.headers.get("X-Request-Id"));
  return body;
}
