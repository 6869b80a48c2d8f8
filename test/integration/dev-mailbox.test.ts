import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { OWASP_ARGON2 } from "../../src/config";
import { parseConfig } from "../../src/env";
import type { MailMessage } from "../../src/lib/mail/message";
import { createMailTransport } from "../../src/lib/mail/transport";

interface Mailbox {
  items: Array<{ id: string; to: string; subject: string; text: string; created_at: string }>;
}

function testConfig() {
  const loaded = parseConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  return loaded.config;
}

/** Sends through the capture transport exactly as the auth routes do. */
async function capture(to: string, subject: string, text = `Body of ${subject}`): Promise<void> {
  const message: MailMessage = { kind: "verify_email", to, subject, text };
  await createMailTransport(env, testConfig()).send(message);
}

const mailboxUrl = (to: string) => `http://localhost/api/v1/dev/mailbox?to=${encodeURIComponent(to)}`;

/** The app with some variables replaced, as a deployment with that configuration would run it. */
function fetchWith(overrides: Record<string, string>, request: Request): Promise<Response> {
  return Promise.resolve(createApp().fetch(request, { ...env, ...overrides }, createExecutionContext()));
}

/** A request to the worker as `npm start` runs it (ENVIRONMENT=development on a loopback origin). */
function devFetch(url: string, init?: RequestInit): Promise<Response> {
  return fetchWith({ ENVIRONMENT: "development" }, new Request(url, init));
}

describe("GET /api/v1/dev/mailbox (MAIL_TRANSPORT=capture)", () => {
  it("lists captured mail newest first, whatever case and spacing the address has", async () => {
    await capture("Hanna.Mailbox@Example.COM", "first", "Open http://localhost/verify-email?token=abc");
    await capture("hanna.mailbox@example.com", "second");
    await capture("someone.else@example.com", "not hers");
    const response = await devFetch(mailboxUrl("  HANNA.mailbox@example.com "));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = (await response.json()) as Mailbox;
    expect(body.items.map((item) => item.subject)).toEqual(["second", "first"]);
    expect(body.items[1]).toMatchObject({ to: "hanna.mailbox@example.com", text: "Open http://localhost/verify-email?token=abc" });
    for (const item of body.items) {
      expect(item.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
    }
  });

  it("normalizes with NFKC: a full-width address reads the same mailbox", async () => {
    await capture("ivan.nfkc@example.com", "hello");
    const body = (await (await devFetch(mailboxUrl("ＩＶＡＮ.nfkc＠example.com"))).json()) as Mailbox;
    expect(body.items.map((item) => item.subject)).toEqual(["hello"]);
  });

  it("returns at most 50 messages, the newest", async () => {
    for (let index = 0; index < 53; index++) await capture("judy.many@example.com", `message ${index}`);
    const body = (await (await devFetch(mailboxUrl("judy.many@example.com"))).json()) as Mailbox;
    expect(body.items).toHaveLength(50);
    expect(body.items[0]!.subject).toBe("message 52");
    expect(body.items[49]!.subject).toBe("message 3");
  });

  it("answers an empty list for an address without mail", async () => {
    const response = await devFetch(mailboxUrl("nobody.here@example.com"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ items: [] });
  });

  it.each([["http://localhost/api/v1/dev/mailbox"], [mailboxUrl("not-an-email")]])("refuses %s with a 422 problem", async (url) => {
    const response = await devFetch(url);
    expect(response.status).toBe(422);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ code: "validation_failed", errors: [expect.objectContaining({ path: "query.to" })] });
  });

  it("DELETE clears one recipient's mail and nobody else's", async () => {
    await capture("kim.clear@example.com", "to be cleared");
    await capture("leo.keep@example.com", "to be kept");
    const response = await devFetch(mailboxUrl("KIM.clear@example.com"), { method: "DELETE" });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(((await (await devFetch(mailboxUrl("kim.clear@example.com"))).json()) as Mailbox).items).toEqual([]);
    expect(((await (await devFetch(mailboxUrl("leo.keep@example.com"))).json()) as Mailbox).items).toHaveLength(1);
  });

  it("is documented in /openapi.json under the Dev tag", async () => {
    const document = (await (await SELF.fetch("http://localhost/openapi.json")).json()) as { paths: Record<string, Record<string, { tags: string[] }>> };
    expect(document.paths["/api/v1/dev/mailbox"]?.get?.tags).toEqual(["Dev"]);
  });
});

describe("the dev mailbox outside development on a loopback origin", () => {
  it("does not exist with ENVIRONMENT=test (a deploy set to test serves no reset links)", async () => {
    await capture("tess.test@example.com", "secret mail");
    const response = await SELF.fetch(mailboxUrl("tess.test@example.com"));
    expect(response.status).toBe(404);
  });

  it("does not exist for a non-loopback origin, even in development", async () => {
    const response = await devFetch(mailboxUrl("tess.test@example.com").replace("http://localhost", "http://192.0.2.10"));
    expect(response.status).toBe(404);
  });

  it("refuses to run development or test on a public URL: 503 misconfigured", async () => {
    for (const ENVIRONMENT of ["development", "test"]) {
      const response = await fetchWith({ ENVIRONMENT, PUBLIC_BASE_URL: "https://auth.example.com" }, new Request("https://auth.example.com/health"));
      expect(response.status, ENVIRONMENT).toBe(503);
    }
  });

  it("refuses to run without an explicit ENVIRONMENT: 503 misconfigured", async () => {
    const response = await fetchWith({ ENVIRONMENT: "" }, new Request("http://localhost/health"));
    expect(response.status).toBe(503);
  });

  it("does not exist with MAIL_TRANSPORT=send_email: every method answers like an unknown path", async () => {
    await capture("mia.hidden@example.com", "secret mail");
    const unknown = await fetchWith({ MAIL_TRANSPORT: "send_email" }, new Request("http://localhost/api/v1/no-such-route"));
    const unknownBody = (await unknown.json()) as Record<string, unknown>;
    for (const method of ["GET", "DELETE", "POST", "OPTIONS"]) {
      const response = await fetchWith({ MAIL_TRANSPORT: "send_email" }, new Request(mailboxUrl("mia.hidden@example.com"), { method }));
      expect(response.status, method).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.headers.get("allow")).toBeNull();
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ code: "not_found", title: unknownBody.title, detail: unknownBody.detail });
    }
    // Nothing was deleted by the refused DELETE.
    expect(((await (await devFetch(mailboxUrl("mia.hidden@example.com"))).json()) as Mailbox).items).toHaveLength(1);
  });

  const productionLike = {
    ENVIRONMENT: "production",
    PUBLIC_BASE_URL: "https://auth.example.com",
    CORS_ORIGINS: "https://app.example.com",
    LOG_LEVEL: "error",
    ARGON2_MEMORY_KIB: String(OWASP_ARGON2.memoryKib),
    ARGON2_ITERATIONS: String(OWASP_ARGON2.iterations),
    ARGON2_PARALLELISM: String(OWASP_ARGON2.parallelism),
  };

  it("production refuses MAIL_TRANSPORT=capture: the whole service answers 503 misconfigured", async () => {
    const response = await fetchWith({ ...productionLike, MAIL_TRANSPORT: "capture" }, new Request(mailboxUrl("mia.hidden@example.com").replace("http://localhost", "https://auth.example.com")));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: "misconfigured" });
  });

  it("the same production configuration with a real transport runs, and has no mailbox", async () => {
    const response = await fetchWith(
      { ...productionLike, MAIL_TRANSPORT: "http", MAIL_HTTP_ENDPOINT: "https://api.mail.example/emails", MAIL_HTTP_API_KEY: "re_test_key" },
      new Request(mailboxUrl("mia.hidden@example.com").replace("http://localhost", "https://auth.example.com")),
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "not_found" });
  });
});
