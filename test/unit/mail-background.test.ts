import { OpenAPIHono } from "@hono/zod-openapi";
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { capturedMails } from "../../src/db/schema";
import type { AppEnv } from "../../src/bindings";
import type { Config } from "../../src/config";
import { parseConfig } from "../../src/env";
import type { Logger } from "../../src/lib/logger";
import { createBackgroundMailer, deliverQuietly, sendInBackground } from "../../src/lib/mail/background";
import type { MailMessage } from "../../src/lib/mail/message";
import { sha256Hex } from "../../src/lib/tokens";

const API_KEY = "re_live_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d";
const TOKEN = "vt_Q2hhbmdlTWVJZllvdUNhblJlYWRUaGlzVG9rZW4";
const LINK = `https://auth.example.com/verify-email?token=${TOKEN}`;

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const logger: Logger = {
    debug: (message, fields = {}) => lines.push({ level: "debug", message, fields }),
    info: (message, fields = {}) => lines.push({ level: "info", message, fields }),
    warn: (message, fields = {}) => lines.push({ level: "warn", message, fields }),
    error: (message, fields = {}) => lines.push({ level: "error", message, fields }),
    child: () => logger,
  };
  return { logger, lines };
}

function config(overrides: Record<string, string>): Config {
  const loaded = parseConfig({ ...env, ...overrides });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  return loaded.config;
}

const message = (to: string): MailMessage => ({ kind: "verify_email", to, subject: "Confirm", text: `Open ${LINK}`, html: `<a href="${LINK}">Confirm</a>` });

const failingFetch = (async () => new Response("{}", { status: 503 })) as unknown as typeof fetch;

describe("background delivery", () => {
  it("logs a failure with the kind and a recipient hash, never the address, link, token or key", async () => {
    const { logger, lines } = recordingLogger();
    const to = "carol.background@example.com";
    const httpConfig = config({ MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: "https://api.mail.example/emails", MAIL_HTTP_API_KEY: API_KEY });
    await expect(deliverQuietly({ env, config: httpConfig, logger }, message(to), { fetch: failingFetch })).resolves.toBeUndefined();
    const errors = lines.filter((line) => line.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe("mail delivery failed");
    expect(errors[0]!.fields).toMatchObject({ kind: "verify_email", recipient_hash: (await sha256Hex(to)).slice(0, 16), status: 503, error_name: "MailError" });
    const logged = JSON.stringify(lines);
    for (const secret of [to, LINK, TOKEN, API_KEY]) expect(logged).not.toContain(secret);
  });

  it("scrubs addresses, links and tokens out of a transport's error message", async () => {
    const { logger, lines } = recordingLogger();
    const binding = {
      send: async () => {
        throw new Error(`destination dave@example.com refused ${LINK} (${TOKEN})`);
      },
    } as unknown as SendEmail;
    await deliverQuietly({ env: { ...env, MAIL: binding }, config: config({ MAIL_TRANSPORT: "send_email" }), logger }, message("dave@example.com"));
    const logged = JSON.stringify(lines);
    expect(lines.find((line) => line.level === "error")?.fields.error_message).toMatch(/refused/);
    for (const secret of ["dave@example.com", LINK, TOKEN]) expect(logged).not.toContain(secret);
  });

  it("a missing transport setting is logged, not thrown", async () => {
    const { logger, lines } = recordingLogger();
    await deliverQuietly({ env: { ...env, MAIL: undefined }, config: config({ MAIL_TRANSPORT: "send_email" }), logger }, message("erin@example.com"));
    expect(lines.find((line) => line.level === "error")?.fields.error_message).toMatch(/MAIL send_email binding/);
  });

  it("hands the delivery to waitUntil and returns before it happens", async () => {
    const { logger } = recordingLogger();
    const pending: Array<Promise<unknown>> = [];
    const to = "frank.waituntil@example.com";
    const mail = createBackgroundMailer({ env, config: config({}), logger, waitUntil: (promise) => {
      pending.push(promise);
    } });
    expect(mail(message(to))).toBeUndefined();
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    const rows = await createDb(env.DB).select().from(capturedMails).where(eq(capturedMails.toAddress, to));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.textBody).toContain(LINK);
  });
});

describe("sendInBackground", () => {
  function appWith(overrides: Record<string, string>, logger: Logger, fetchImpl?: typeof fetch) {
    const app = new OpenAPIHono<AppEnv>();
    app.use("*", async (c, next) => {
      c.set("config", config(overrides));
      c.set("logger", logger);
      await next();
    });
    app.post("/register", (c) => {
      sendInBackground(c, message("grace.request@example.com"), { fetch: fetchImpl });
      return c.json({ status: "accepted" }, 202);
    });
    return app;
  }

  it("answers the same whether delivery fails, and logs the failure", async () => {
    const { logger, lines } = recordingLogger();
    const app = appWith({ MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: "https://api.mail.example/emails", MAIL_HTTP_API_KEY: API_KEY }, logger, failingFetch);
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request("http://localhost/register", { method: "POST" }), env, ctx);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "accepted" });
    await waitOnExecutionContext(ctx);
    expect(lines.filter((line) => line.level === "error").map((line) => line.fields.kind)).toEqual(["verify_email"]);
  });

  it("delivers through the capture transport once the execution context settles", async () => {
    const { logger } = recordingLogger();
    const ctx = createExecutionContext();
    const response = await appWith({}, logger).fetch(new Request("http://localhost/register", { method: "POST" }), env, ctx);
    expect(response.status).toBe(202);
    await waitOnExecutionContext(ctx);
    const rows = await createDb(env.DB).select().from(capturedMails).where(eq(capturedMails.toAddress, "grace.request@example.com"));
    expect(rows.length).toBeGreaterThanOrEqual(1);
  });

  it("works without an execution context (app.request)", async () => {
    const { logger } = recordingLogger();
    const response = await appWith({}, logger).request("/register", { method: "POST" }, env);
    expect(response.status).toBe(202);
  });
});
