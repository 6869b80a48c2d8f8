import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { HTTPException } from "hono/http-exception";
import { expect, vi } from "vitest";
import { createApp } from "../../src/app";
import type { AppEnv, Bindings } from "../../src/bindings";
import { errorResponses, jsonBody, jsonContent } from "../../src/lib/openapi";
import { recordContentType } from "./declared-content-types";

/** Settings that pass every staging/production check in src/env.ts (the test key and secret are reused). */
export const PRODUCTION_SETTINGS = {
  ENVIRONMENT: "production",
  PUBLIC_BASE_URL: "https://auth.example.com",
  CORS_ORIGINS: "https://app.example.com",
  DOCS_PUBLIC: "false",
  MAIL_TRANSPORT: "send_email",
  // A send_email binding as production has it (a no-op here; the transport has its own fake).
  MAIL: { send: async () => {} },
  ARGON2_MEMORY_KIB: "19456",
  ARGON2_ITERATIONS: "2",
  ARGON2_PARALLELISM: "1",
  LOG_LEVEL: "info",
} as const;

/** The test bindings with some variables replaced (`undefined` removes one). A new object, so config is parsed again. */
export function bindingsWith(overrides: Record<string, unknown> = {}): Bindings {
  return { ...env, ...overrides } as Bindings;
}

/** The test bindings turned into a valid production configuration, plus `overrides`. */
export function productionBindings(overrides: Record<string, unknown> = {}): Bindings {
  return bindingsWith({ ...PRODUCTION_SETTINGS, ...overrides });
}

export interface CallOptions {
  /** Variables or bindings replacing the test ones. */
  env?: Record<string, unknown>;
  /** Mounts the probe routes below, which exist only in tests. */
  probes?: boolean;
}

/**
 * Runs one request through a fresh `createApp()` with the real pipeline, for configurations other
 * than the vitest one and for the probe routes. Routes mounted after `createApp()` sit behind the
 * same middleware and notFound/onError handlers as the real modules.
 */
export async function callApp(input: Request | string, init?: RequestInit, options: CallOptions = {}): Promise<Response> {
  const app = createApp();
  if (options.probes) app.route("/", probeRoutes());
  const request = input instanceof Request ? input : new Request(input, init);
  const ctx = createExecutionContext();
  const response = await app.fetch(request, bindingsWith(options.env), ctx);
  await waitOnExecutionContext(ctx);
  return recordContentType(request, response);
}

export const ItemSchema = z.object({
  name: z.string().min(1),
  email: z.email(),
  quantity: z.number().int().min(1),
});

/** How long the slow probe sleeps: far past the 100 ms budget the timeout tests configure. */
export const SLOW_HANDLER_MS = 1_500;

/** Routes that exercise the pipeline the way real JSON modules do, without adding test-only routes to src. */
export function probeRoutes(): OpenAPIHono<AppEnv> {
  const probes = new OpenAPIHono<AppEnv>();
  probes.openapi(
    createRoute({
      method: "post",
      path: "/test/items",
      request: { body: jsonBody(ItemSchema), query: z.object({ dry_run: z.enum(["true", "false"]).optional() }) },
      responses: { 201: jsonContent(ItemSchema, "Created"), ...errorResponses() },
    }),
    (c) => c.json(c.req.valid("json"), 201),
  );
  // A handler that carelessly logs credentials: the logger must redact them.
  probes.post("/test/login", async (c) => {
    const body = await c.req.json<Record<string, unknown>>();
    c.get("logger").info("login attempt", { email: body.email, password: body.password, session: { refresh_token: body.refresh_token } });
    return c.body(null, 204);
  });
  probes.post("/test/echo", async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  probes.get("/test/slow", async (c) => {
    await new Promise((resolve) => setTimeout(resolve, SLOW_HANDLER_MS));
    return c.json({ finished: true });
  });
  probes.get("/test/boom", () => {
    throw new Error("database password is hunter2 at /srv/app.ts:12");
  });
  probes.get("/test/d1", async (c) => c.json(await c.env.DB.prepare("select 1 as ok").first()));
  probes.get("/test/http-exception/:status", (c) => {
    const message = c.req.query("message") ?? "From Hono";
    throw new HTTPException(Number(c.req.param("status")) as 400, { message });
  });
  probes.get("/test/missing", (c) => c.notFound());
  probes.get("/test/user", (c) => {
    c.set("userId", "user-123");
    return c.json({ ok: true });
  });
  return probes;
}

/** A D1 binding that fails like D1 does when its connection drops. */
export const unavailableD1 = {
  prepare() {
    throw new Error("D1_ERROR: Network connection lost.");
  },
} as unknown as D1Database;

export interface ProblemJson {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  request_id: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

/** Asserts an RFC 9457 body whose `instance` is the response's request id, and returns it. */
export async function expectProblem(response: Response, status: number, code: string): Promise<ProblemJson> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await response.json()) as ProblemJson;
  expect(body).toMatchObject({ status, code });
  expect(body.title).toEqual(expect.any(String));
  expect(body.detail).toEqual(expect.any(String));
  expect(new URL(body.type).pathname).toBe(`/problems/${code}`);
  const requestId = response.headers.get("X-Request-Id");
  expect(requestId).toBeTruthy();
  expect(body.instance).toBe(requestId);
  expect(body.request_id).toBe(requestId);
  return body;
}

export const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
} as const;

/** Asserts every security header the API promises, with the API's CSP unless `csp` says otherwise. */
export function expectSecurityHeaders(response: Response, csp: string | RegExp = "default-src 'none'; frame-ancestors 'none'"): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), name).toBe(value);
  expect(response.headers.get("Permissions-Policy")).toMatch(/camera=\(\)/);
  if (typeof csp === "string") expect(response.headers.get("Content-Security-Policy")).toBe(csp);
  else expect(response.headers.get("Content-Security-Policy")).toMatch(csp);
  expect(response.headers.get("X-Powered-By")).toBeNull();
  expect(response.headers.get("Server")).toBeNull();
  expect(response.headers.get("X-Request-Id")).toBeTruthy();
}

/** Captures every console line the logger writes, parsed; `restore()` puts the console back. */
export function captureLogs() {
  const lines: string[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    }),
  );
  return {
    lines,
    json: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
