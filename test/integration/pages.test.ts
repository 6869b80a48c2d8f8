import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PAGE_CSP } from "../../src/modules/pages/pages.routes";
import { callApp, expectProblem } from "../helpers/app-env";
import { BASE, postJson, randomIp, STRONG_PASSWORD, tokenFromMail, uniqueEmail, waitForMail } from "../helpers/auth";

const PAGES = ["/verify-email", "/reset-password", "/forgot-password", "/account", "/account/security"];

const get = (path: string) => SELF.fetch(`${BASE}${path}`, { headers: { "CF-Connecting-IP": randomIp() } });

async function registered(): Promise<{ email: string; token: string }> {
  const email = uniqueEmail("pages");
  expect((await postJson("/auth/register", { email, password: STRONG_PASSWORD, first_name: "Page", last_name: "Tester" })).status).toBe(202);
  const [mail] = await waitForMail(email, "verify");
  return { email, token: tokenFromMail(mail!.text) };
}

describe("hosted pages for emailed links", () => {
  it.each(PAGES)("serves %s as HTML under a strict CSP, never cached", async (path) => {
    const response = await get(`${path}?token=abc`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("Content-Security-Policy")).toBe(PAGE_CSP);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<link rel="stylesheet" href="/pages/base.css">');
  });

  it("allows no inline code and no other origin in the CSP", () => {
    expect(PAGE_CSP).not.toMatch(/unsafe-|https?:|\*|data:/);
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
  });

  it.each(PAGES)("%s contains no inline script, inline style or third-party reference", async (path) => {
    const html = await (await get(path)).text();
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i);
    for (const script of html.match(/<script[^>]*>[\s\S]*?<\/script>/g) ?? []) expect(script).toMatch(/^<script type="module" src="\/pages\/[a-z-]+\.js"><\/script>$/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("serves the icon under the API's default-src 'none' CSP", async () => {
    expect((await get("/pages/icon.svg")).headers.get("Content-Security-Policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it("serves every file the pages reference, with its type", async () => {
    const referenced = new Set<string>();
    for (const path of PAGES) for (const match of (await (await get(path)).text()).matchAll(/(?:src|href)="(\/pages\/[^"]+)"/g)) referenced.add(match[1]!);
    // Imported by the page scripts: the shared helpers and the bundled browser libraries.
    const scripts = ["/pages/base.js", "/pages/vendor/qr.js", "/pages/vendor/webauthn.js"];
    expect([...referenced].sort()).toEqual(["/pages/account-security.js", "/pages/base.css", "/pages/forgot-password.js", "/pages/icon.svg", "/pages/reset-password.js", "/pages/verify-email.js"]);
    const types = { css: /^text\/css/, js: /^(text|application)\/javascript/, svg: /^image\/svg\+xml/ };
    for (const file of [...referenced, ...scripts]) {
      const response = await get(file);
      expect(response.status, file).toBe(200);
      expect(response.headers.get("Content-Type")).toMatch(types[file.split(".").pop() as keyof typeof types]);
      expect(response.headers.get("Cache-Control")).toBe("public, max-age=300");
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    }
  });

  it("serves only CSS and JavaScript below /pages/, never the raw HTML or anything else", async () => {
    for (const path of ["/pages/verify-email.html", "/pages/verify-email", "/pages/nope.js", "/pages/..%2Fdocs%2Fvendor", "/pages/BASE.CSS", "/pages/vendor/base.css", "/pages/vendor/..%2Fbase.js", "/pages/vendor/nope.js"]) {
      await expectProblem(await get(path), 404, "not_found");
    }
  });

  it("does not use the token when the link is opened (a mail scanner's GET): only the button's POST does", async () => {
    const { email, token } = await registered();
    for (let scan = 0; scan < 3; scan++) expect((await get(`/verify-email?token=${token}`)).status).toBe(200);
    const row = await env.DB.prepare("select email_verified_at from users where email = ?").bind(email).first<{ email_verified_at: number | null }>();
    expect(row!.email_verified_at).toBeNull();
    expect((await postJson("/auth/verify-email", { token })).status).toBe(204);
  });

  it("shows the configured password rules on the reset page", async () => {
    const html = await (await callApp(`${BASE}/reset-password?token=x`, undefined, { env: { PASSWORD_MIN_LENGTH: "14" } })).text();
    expect(html).toMatch(/<input id="new-password"[^>]*minlength="14"/);
    expect(html).toContain("be at least <span>14</span> characters long");
    expect(html).toContain("be at most <span>1024</span> bytes long");
    expect(html).not.toContain("data-config");
  });

  it("links the emails to the hosted pages by default", async () => {
    const email = uniqueEmail("pages-links");
    await postJson("/auth/register", { email, password: STRONG_PASSWORD, first_name: "A", last_name: "B" });
    const [mail] = await waitForMail(email, "verify");
    expect(mail!.text).toMatch(/^http:\/\/localhost\/verify-email\?token=[A-Za-z0-9_-]{43}$/m);
  });
});

describe("with a frontend configured", () => {
  const frontend = { APP_URL: "https://app.example.com", EMAIL_LINK_RESET_URL: "https://app.example.com/#/reset/{token}" };

  it.each(PAGES)("%s does not exist", async (path) => {
    await expectProblem(await callApp(`${BASE}${path}`, undefined, { env: frontend }), 404, "not_found");
  });

  it("emails links to the frontend: the path on APP_URL, or the link's template", async () => {
    const email = uniqueEmail("frontend");
    const register = await callApp(`${BASE}/api/v1/auth/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp() },
      body: JSON.stringify({ email, password: STRONG_PASSWORD, first_name: "F", last_name: "E" }),
    }, { env: frontend });
    expect(register.status).toBe(202);
    const [verify] = await waitForMail(email, "verify");
    expect(verify!.text).toMatch(/^https:\/\/app\.example\.com\/verify-email\?token=[A-Za-z0-9_-]{43}$/m);
    await env.DB.prepare("update users set email_verified_at = 1 where email = ?").bind(email).run();
    const forgot = await callApp(`${BASE}/api/v1/auth/password/forgot`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp() },
      body: JSON.stringify({ email }),
    }, { env: frontend });
    expect(forgot.status).toBe(202);
    const [reset] = await waitForMail(email, "reset");
    expect(reset!.text).toMatch(/^https:\/\/app\.example\.com\/#\/reset\/[A-Za-z0-9_-]{43}$/m);
    expect(reset!.text).not.toContain("localhost");
  });

  it("keeps hosting a page whose link has no template when APP_URL is unset", async () => {
    const only = { EMAIL_LINK_VERIFY_URL: "https://app.example.com/verify?token={token}" };
    await expectProblem(await callApp(`${BASE}/verify-email`, undefined, { env: only }), 404, "not_found");
    expect((await callApp(`${BASE}/reset-password`, undefined, { env: only })).status).toBe(200);
  });
});
