import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { call, expectJson, roleIdOf } from "../helpers/rbac";
import { aiPost, aiRole, chat, expectQuotaHeaders, expectQuotaProblem, setRolePolicy, usageRows } from "../helpers/ai";
import { LOCAL_MODELS_JSON } from "../../src/modules/ai/ai.config";
import { costMicroUsd } from "../../src/modules/ai/ai.cost";

interface MyUsage {
  today: { tokens: number; cost_usd: number };
  budgets: { role: string | null; daily_tokens: { limit: number | null; used: number; reserved: number; remaining: number | null }; monthly_cost_usd: { used: number; limit: number | null } };
}

const MESSAGE = [{ role: "user", content: "Give me one sentence about budgets." }];

describe("AI budgets (Quota Durable Object)", () => {
  it("50 parallel calls with budget for one let exactly one through; the others get 429 quota-exceeded", async () => {
    // The worst case of one call: its input (deterministic for the local provider) plus max_tokens.
    const probe = await createUser({ roles: [await aiRole(null)] });
    const measured = await chat(probe.accessToken, { messages: MESSAGE, max_tokens: 200 });
    const worstCase = measured.usage.input_tokens + 200;

    const user = await createUser({ roles: [await aiRole(worstCase)] });
    const responses = await Promise.all(Array.from({ length: 50 }, () => aiPost(user.accessToken, "/ai/chat", { messages: MESSAGE, max_tokens: 200 })));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 429)).toHaveLength(49);
    const refused = responses.find((response) => response.status === 429)!;
    const problem = await expectQuotaProblem(refused);
    expect(problem["violated-policies"]).toEqual(["ai-tokens"]);
    expect(refused.headers.get("RateLimit-Policy")).toBe(`"ai-tokens";q=${worstCase};w=86400`);
    expectQuotaHeaders(refused);

    const rows = await usageRows(user.id, 50);
    expect(rows.filter((row) => row.outcome === "ok")).toHaveLength(1);
    expect(rows.filter((row) => row.outcome === "refused")).toHaveLength(49);
    const usage = await expectJson<MyUsage>(await call(user.accessToken, "GET", "/ai/usage"), 200);
    const ok = rows.find((row) => row.outcome === "ok")!;
    expect(usage.budgets.daily_tokens).toMatchObject({ limit: worstCase, used: ok.input_tokens + ok.output_tokens, reserved: 0 });
  }, 60_000);

  it("the cost counter is exact under the same race: tokens for all 50, cost for one, one admitted and nothing left held", async () => {
    const probe = await createUser({ roles: [await aiRole(null)] });
    const measured = await chat(probe.accessToken, { messages: MESSAGE, max_tokens: 200 });
    const [local] = JSON.parse(LOCAL_MODELS_JSON) as Array<{ input_usd_per_mtok: number; output_usd_per_mtok: number }>;
    const price = { inputMicroUsdPerMtok: local!.input_usd_per_mtok * 1_000_000, outputMicroUsdPerMtok: local!.output_usd_per_mtok * 1_000_000 };
    const worstCost = costMicroUsd(price, measured.usage.input_tokens, 200);

    const user = await createUser({ roles: [await aiRole(1_000_000, worstCost)] });
    const responses = await Promise.all(Array.from({ length: 50 }, () => aiPost(user.accessToken, "/ai/chat", { messages: MESSAGE, max_tokens: 200 })));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 429)).toHaveLength(49);
    const problem = await expectQuotaProblem(responses.find((response) => response.status === 429)!);
    expect(problem["violated-policies"]).toEqual(["ai-cost"]);

    const rows = await usageRows(user.id, 50);
    const ok = rows.find((row) => row.outcome === "ok")!;
    const usage = await expectJson<MyUsage>(await call(user.accessToken, "GET", "/ai/usage"), 200);
    // The refused calls held no tokens either: both counters are exactly the one admitted call.
    expect(usage.budgets.daily_tokens).toMatchObject({ used: ok.input_tokens + ok.output_tokens, reserved: 0 });
    expect(Math.round(usage.budgets.monthly_cost_usd.used * 1_000_000)).toBe(ok.cost_micro_usd);
  }, 60_000);

  it("settled counters equal the sum of the recorded usage rows (chat, stream, ideas, enhance, autofill)", async () => {
    const user = await createUser({ roles: [await aiRole(1_000_000, 5_000_000)] });
    await chat(user.accessToken, { messages: MESSAGE });
    await (await aiPost(user.accessToken, "/ai/chat", { stream: true, messages: MESSAGE })).text();
    await expectJson(await aiPost(user.accessToken, "/ai/ideas", { topic: "team offsite activities", count: 3 }), 200);
    await expectJson(await aiPost(user.accessToken, "/ai/enhance", { content: "we has many customer and they is happy", mode: "improve" }), 200);
    await expectJson(await aiPost(user.accessToken, "/ai/autofill", { field_name: "city", existing_data: { country: "France", zip: "75001" } }), 200);
    const rows = await usageRows(user.id, 5);
    const usage = await expectJson<MyUsage>(await call(user.accessToken, "GET", "/ai/usage"), 200);
    const tokens = rows.reduce((sum, row) => sum + row.input_tokens + row.output_tokens, 0);
    const micro = rows.reduce((sum, row) => sum + row.cost_micro_usd, 0);
    expect(tokens).toBeGreaterThan(0);
    expect(usage.budgets.daily_tokens.used).toBe(tokens);
    expect(usage.budgets.daily_tokens.reserved).toBe(0);
    expect(Math.round(usage.budgets.monthly_cost_usd.used * 1_000_000)).toBe(micro);
    expect(usage.today.tokens).toBe(tokens);
    expect(usage.budgets.monthly_cost_usd.limit).toBe(5);
  }, 30_000);

  it("a role with 0 tokens refuses before any provider call; the most generous role wins", async () => {
    const none = await createUser({ roles: [await aiRole(0)] });
    const refused = await aiPost(none.accessToken, "/ai/chat", { messages: MESSAGE });
    const problem = await expectQuotaProblem(refused);
    expect(problem.detail).toMatch(/no AI use/);

    const both = await createUser({ roles: [await aiRole(0), "user", await aiRole(null)] });
    const usage = await expectJson<MyUsage>(await call(both.accessToken, "GET", "/ai/usage"), 200);
    expect(usage.budgets.daily_tokens.limit).toBeNull();
    expect(usage.budgets.daily_tokens.remaining).toBeNull();
    await chat(both.accessToken, { messages: MESSAGE });
  });

  it("a change of a role's AI policy applies from the holder's next request (the policy is read with the principal)", async () => {
    const role = await aiRole(1_000_000);
    const user = await createUser({ roles: [role] });
    await chat(user.accessToken, { messages: MESSAGE });
    await setRolePolicy(role, 0);
    const refused = await expectQuotaProblem(await aiPost(user.accessToken, "/ai/chat", { messages: MESSAGE }));
    expect(refused.detail).toMatch(/no AI use/);
    await setRolePolicy(role, 1_000_000, 1);
    expect((await expectQuotaProblem(await aiPost(user.accessToken, "/ai/chat", { messages: MESSAGE })))["violated-policies"]).toEqual(["ai-cost"]);
    await setRolePolicy(role, null, null);
    await chat(user.accessToken, { messages: MESSAGE });
    const usage = await expectJson<MyUsage>(await call(user.accessToken, "GET", "/ai/usage"), 200);
    expect(usage.budgets).toMatchObject({ role, daily_tokens: { limit: null }, monthly_cost_usd: { limit: null } });
  });

  it("the cost budget refuses too (ai-cost), with its own RateLimit fields", async () => {
    const user = await createUser({ roles: [await aiRole(null, 1)] });
    const refused = await aiPost(user.accessToken, "/ai/chat", { messages: MESSAGE });
    const problem = await expectQuotaProblem(refused);
    expect(problem["violated-policies"]).toEqual(["ai-cost"]);
    expectQuotaHeaders(refused, "ai-cost");
  });

  it("max_tokens is clamped to the model's maximum", async () => {
    const user = await createUser();
    const body = await chat(user.accessToken, { messages: [{ role: "user", content: "word ".repeat(3000) }], max_tokens: 100_000 });
    expect(body.usage.output_tokens).toBeLessThanOrEqual(512);
  });
});

describe("role AI policy on the roles API", () => {
  it("seeds user 100,000 tokens a day and guest 0", async () => {
    const admin = await createUser({ roles: ["admin"] });
    const user = await expectJson<{ ai_daily_token_limit: number | null }>(await call(admin.accessToken, "GET", `/roles/${await roleIdOf("user")}`), 200);
    const guest = await expectJson<{ ai_daily_token_limit: number | null; ai_monthly_cost_limit_usd: number | null }>(await call(admin.accessToken, "GET", `/roles/${await roleIdOf("guest")}`), 200);
    expect(user.ai_daily_token_limit).toBe(100_000);
    expect(guest).toMatchObject({ ai_daily_token_limit: 0, ai_monthly_cost_limit_usd: 0 });
  });

  it("ai:manage holders set the limits (create and update), audited; others get 403", async () => {
    const admin = await createUser({ roles: ["admin"] });
    const created = await expectJson<{ id: string; ai_daily_token_limit: number; ai_monthly_cost_limit_usd: number }>(
      await call(admin.accessToken, "POST", "/roles", { name: `support-${crypto.randomUUID().slice(0, 6)}`, permissions: ["ai:use"], ai_daily_token_limit: 5000, ai_monthly_cost_limit_usd: 2.5 }),
      201,
    );
    expect(created).toMatchObject({ ai_daily_token_limit: 5000, ai_monthly_cost_limit_usd: 2.5 });
    const updated = await expectJson<{ ai_daily_token_limit: number | null }>(await call(admin.accessToken, "PATCH", `/roles/${created.id}`, { ai_daily_token_limit: null }), 200);
    expect(updated.ai_daily_token_limit).toBeNull();
    const audit = await env.DB.prepare("select changes from audit_logs where action = 'role.updated' and target_id = ? order by seq desc").bind(created.id).first<{ changes: string }>();
    expect(JSON.parse(audit!.changes)).toMatchObject({ ai_daily_token_limit: { before: 5000, after: null } });

    // A role administrator without ai:manage.
    const roleAdmin = await aiRoleWith(["roles:read", "roles:write", "ai:use"]);
    const holder = await createUser({ roles: [roleAdmin] });
    const denied = await call(holder.accessToken, "PATCH", `/roles/${created.id}`, { ai_daily_token_limit: 999_999 });
    const problem = await expectProblem(denied, 403, "forbidden");
    expect(problem.missing_permissions).toEqual(["ai:manage"]);
    await expectProblem(await call(holder.accessToken, "POST", "/roles", { name: `x-${crypto.randomUUID().slice(0, 6)}`, ai_monthly_cost_limit_usd: 1 }), 403, "forbidden");
    const unchanged = await env.DB.prepare("select ai_daily_token_limit from roles where id = ?").bind(created.id).first<{ ai_daily_token_limit: number | null }>();
    expect(unchanged!.ai_daily_token_limit).toBeNull();
  });

  it("rejects negative limits with 422", async () => {
    const admin = await createUser({ roles: ["admin"] });
    await expectProblem(await call(admin.accessToken, "PATCH", `/roles/${await roleIdOf("guest")}`, { ai_daily_token_limit: -1 }), 422, "validation_failed");
  });
});

async function aiRoleWith(permissions: string[]): Promise<string> {
  const name = `perm-${crypto.randomUUID().slice(0, 8)}`;
  const id = crypto.randomUUID();
  await env.DB.prepare("insert into roles (id, name, description, is_system, created_at, updated_at) values (?, ?, '', 0, 0, 0)").bind(id, name).run();
  await env.DB.prepare(`insert into role_permissions (role_id, permission_id) select ?, id from permissions where name in (${permissions.map(() => "?").join(", ")})`).bind(id, ...permissions).run();
  return name;
}

