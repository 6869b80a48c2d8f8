import type { LimitRequest, RefundRequest } from "../../src/durable-objects/rate-limiter";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createMiddleware } from "hono/factory";
import { createApp } from "../../src/app";
import type { AppEnv, Bindings } from "../../src/bindings";
import { errorResponses, jsonBody, jsonContent } from "../../src/lib/openapi";
import { ProblemError } from "../../src/lib/problem";
import { enforceRateLimits } from "../../src/lib/rate-limit/enforce";
import { withRateLimit } from "../../src/lib/rate-limit/openapi";
import { rateLimit } from "../../src/middleware/rate-limit";

/**
 * Routes that use the real rate-limit middleware, mounted behind the real pipeline of
 * `createApp()`, with the real RATE_LIMITER binding. The handlers stand in for the auth module:
 * the login probe answers 401 unless the password is "correct".
 */
export const CORRECT_PASSWORD = "correct";

const LoginSchema = z.object({ email: z.string(), password: z.string().min(1) });
const OkSchema = z.object({ ok: z.boolean() });

export const loginProbe = createRoute({
  method: "post",
  path: "/api/test/login",
  middleware: [rateLimit({ policies: ["login_ip", "login_account"], email: "body.email" })] as const,
  request: { body: jsonBody(LoginSchema) },
  responses: withRateLimit({ 200: jsonContent(OkSchema, "Signed in"), ...errorResponses(401) }, ["login_ip", "login_account"]),
});

/** A route limited per IP; tests set the policy's numbers they need through RATE_LIMIT_OVERRIDES. */
export const ipLimitedProbe = createRoute({
  method: "get",
  path: "/api/test/ip-limited",
  middleware: [rateLimit({ policies: ["register_ip"] })] as const,
  responses: withRateLimit({ 200: jsonContent(OkSchema, "Fine") }, ["register_ip"]),
});

/** Stands in for the auth middleware: a verified user id, then the programmatic per-user limit. */
const fakeAuth = createMiddleware<AppEnv>(async (c, next) => {
  const userId = c.req.header("X-Test-User") ?? "nobody";
  c.set("userId", userId);
  await enforceRateLimits(c, [{ policy: "api_user", key: userId }]);
  await next();
});

export function probeApp(): OpenAPIHono<AppEnv> {
  const app = createApp();
  const probes = new OpenAPIHono<AppEnv>();
  probes.openapi(loginProbe, (c) => {
    if (c.req.valid("json").password !== CORRECT_PASSWORD) throw new ProblemError("invalid_credentials");
    return c.json({ ok: true }, 200);
  });
  probes.openapi(ipLimitedProbe, (c) => c.json({ ok: true }, 200));
  probes.get("/api/test/user", fakeAuth, (c) => c.json({ ok: true }));
  probes.get("/api/test/user-fails", fakeAuth, () => {
    throw new ProblemError("not_found");
  });
  app.route("/", probes);
  return app;
}

/** Sends one request through `app` with the test bindings plus `overrides`. */
export async function send(app: OpenAPIHono<AppEnv>, request: Request, overrides: Record<string, unknown> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, ...overrides } as Bindings, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Bindings whose limiter always throws, as when the Durable Object is unreachable. */
export function brokenLimiter(): Record<string, unknown> {
  const failing = new Proxy({}, { get: () => () => Promise.reject(new Error("Durable Object reset because its code was updated.")) });
  return { RATE_LIMITER: { idFromName: (name: string) => env.RATE_LIMITER.idFromName(name), get: () => failing } };
}

/** The real limiter binding, counting how many limiter objects each request calls. */
export function countingLimiter(): { bindings: Record<string, unknown>; calls: () => number } {
  let calls = 0;
  // Counts limiter decisions (`check`), not the background warm-up pings of the email shards.
  const namespace = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.RATE_LIMITER.get(id);
      return {
        check: (requests: LimitRequest[]) => {
          calls += 1;
          return stub.check(requests);
        },
        peek: (requests: LimitRequest[]) => stub.peek(requests),
        refund: (refunds: RefundRequest[]) => stub.refund(refunds),
        reset: (requests: LimitRequest[]) => stub.reset(requests),
        ping: () => stub.ping(),
      };
    },
  };
  return { bindings: { RATE_LIMITER: namespace }, calls: () => calls };
}

let counter = 0;

/** A fresh TEST-NET address per call, so tests never share per-IP buckets. */
export function freshIp(): string {
  counter += 1;
  return `203.0.${Math.floor(counter / 250) % 256}.${1 + (counter % 250)}`;
}

export function freshEmail(): string {
  return `rl-${crypto.randomUUID()}@example.com`;
}

export function loginRequest(email: string, password: string, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/api/test/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshIp(), ...headers },
    body: JSON.stringify({ email, password }),
  });
}

/** Parses a RateLimit field into policy → { r, t }. */
export function parseRateLimit(value: string | null): Record<string, { r: number; t?: number }> {
  const out: Record<string, { r: number; t?: number }> = {};
  for (const item of (value ?? "").split(",").map((part) => part.trim()).filter(Boolean)) {
    const [name, ...params] = item.split(";");
    const entry: { r: number; t?: number } = { r: Number.NaN };
    for (const param of params) {
      const [key, number] = param.split("=");
      if (key === "r") entry.r = Number(number);
      if (key === "t") entry.t = Number(number);
    }
    out[JSON.parse(name!) as string] = entry;
  }
  return out;
}
